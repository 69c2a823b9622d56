import fc from "fast-check";
import {
  CANDIDATE_MAX_CHARS,
  checkPreviewUrl,
  compilePreviewAllowlist,
  fillPreviewPattern,
  findPreviewUrl,
  type PreviewPattern,
  previewPatternProblems,
  SCAN_MAX_CANDIDATES,
  SCAN_MAX_CHARS,
} from "../../../../functions/shared/domain/preview-url";

const ALLOWLIST = compilePreviewAllowlist([
  "https://*.vercel.app",
  "https://*-acme.netlify.app",
  "https://pr-{pr}.preview.acme.dev",
]);

function accepted(url: string, allowlist: readonly PreviewPattern[] = ALLOWLIST): string | undefined {
  const verdict = checkPreviewUrl(allowlist, url);
  return verdict.ok ? verdict.url : undefined;
}

function reason(url: string): string {
  const verdict = checkPreviewUrl(ALLOWLIST, url);
  if (verdict.ok) throw new Error(`${url} was accepted as ${verdict.url}`);
  return verdict.reason;
}

describe("compilePreviewAllowlist", () => {
  it("compiles the three kinds of pattern, with their fixed suffixes", () => {
    expect(ALLOWLIST.map((p) => [p.pattern, p.fixedSuffix, p.placeholder])).toEqual([
      ["https://*.vercel.app", "vercel.app", "*"],
      ["https://*-acme.netlify.app", "netlify.app", "*"],
      ["https://pr-{pr}.preview.acme.dev", "preview.acme.dev", "{pr}"],
    ]);
  });

  it("accepts a fixed host, upper case and a trailing slash, normalised", () => {
    const [p] = compilePreviewAllowlist(["HTTPS://Staging.Acme.dev/"]);
    expect(p).toMatchObject({ pattern: "https://staging.acme.dev", fixedSuffix: "staging.acme.dev" });
    expect(p.placeholder).toBeUndefined();
  });

  it.each([
    ["https://*", "directly under a top-level domain"],
    ["https://*.app", "directly under a top-level domain"],
    ["https://*-acme.dev", "directly under a top-level domain"],
    ["https://pr-{pr}.dev", "directly under a top-level domain"],
    ["https://*.co.uk", 'public suffix "co.uk"'],
    ["https://co.uk", "is a public suffix"],
    ["http://*.vercel.app", "must start with https://"],
    ["*.vercel.app", "must start with https://"],
    ["https://*.vercel.app/path", "host only"],
    ["https://*.vercel.app?x=1", "host only"],
    ["https://user@*.vercel.app", "userinfo"],
    ["https://*.vercel.app:443", "port"],
    ["https://[::1]", "IP address"],
    ["https://127.0.0.1", "IP address"],
    ["https://*.*.vercel.app", "only one placeholder"],
    ["https://pr-{pr}-*.acme.dev", "only one placeholder"],
    ["https://x.*.acme.dev", "only in its first label"],
    ["https://*.xn--80ak6aa92e.com", "punycode"],
    ["https://*.exämple.com", "not a DNS label"],
    ["https://*.vercel.app.", "empty label"],
    ["https://", "no host"],
    ["https://-*.acme.dev", "not a DNS label"],
  ])("refuses %j, naming it (%s)", (pattern, why) => {
    const problems = previewPatternProblems([pattern]);
    expect(problems).toHaveLength(1);
    expect(problems[0].path).toEqual([0]);
    expect(problems[0].message).toContain(JSON.stringify(pattern));
    expect(problems[0].message).toContain(why);
    expect(() => compilePreviewAllowlist([pattern])).toThrow(JSON.stringify(pattern));
  });

  it("names every bad pattern, at its index", () => {
    const problems = previewPatternProblems(["https://*.vercel.app", "https://*", "https://*.app"]);
    expect(problems.map((p) => p.path)).toEqual([[1], [2]]);
  });

  it("warns of a wildcard under a shared hosting domain, where anyone can deploy", () => {
    const [vercel, netlify, own] = compilePreviewAllowlist([
      "https://*.vercel.app",
      "https://*-acme.netlify.app",
      "https://*.preview.acme.dev",
    ]);
    expect(vercel.warning).toContain("anyone's");
    expect(netlify.warning).toContain("netlify.app");
    expect(own.warning).toBeUndefined();
    expect(
      compilePreviewAllowlist(["https://deploy-preview-{pr}--acme.netlify.app"])[0].warning,
    ).toBeUndefined();
  });
});

describe("checkPreviewUrl accepts", () => {
  it.each([
    ["https://my-app-git-fix-acme.vercel.app", "https://my-app-git-fix-acme.vercel.app"],
    ["https://my-app-git-fix-acme.vercel.app/settings?tab=2#top", "https://my-app-git-fix-acme.vercel.app"],
    ["HTTPS://My-App.Vercel.App/", "https://my-app.vercel.app"],
    ["https://deploy-7-acme.netlify.app", "https://deploy-7-acme.netlify.app"],
    ["https://pr-42.preview.acme.dev/login", "https://pr-42.preview.acme.dev"],
  ])("%j as its origin %j", (url, origin) => {
    expect(checkPreviewUrl(ALLOWLIST, url)).toEqual({ ok: true, url: origin, pattern: expect.any(String) });
  });
});

describe("checkPreviewUrl with fixed and {pr} patterns", () => {
  it("accepts a fixed host exactly, not its subdomains or parents", () => {
    const fixed = compilePreviewAllowlist(["https://staging.acme.dev"]);
    expect(accepted("https://STAGING.acme.dev/x", fixed)).toBe("https://staging.acme.dev");
    expect(accepted("https://a.staging.acme.dev", fixed)).toBeUndefined();
    expect(accepted("https://acme.dev", fixed)).toBeUndefined();
  });

  it("accepts any pull request's preview on the organisation's own domain, not only the linked one", () => {
    // The host stays the organisation's; which of its previews a ticket names is the ticket's to say.
    expect(accepted("https://pr-7.preview.acme.dev")).toBe("https://pr-7.preview.acme.dev");
    expect(accepted("https://pr-7.x.preview.acme.dev")).toBeUndefined();
  });
});

describe("checkPreviewUrl refuses", () => {
  it("a host that only starts with an allowed suffix: vercel.app.evil.example", () => {
    expect(reason("https://vercel.app.evil.example")).toContain("matches no allowed");
    expect(reason("https://x.vercel.app.evil.example")).toContain("matches no allowed");
  });
  it("a host whose label only ends like the suffix: evil-vercel.app", () => {
    expect(reason("https://evil-vercel.app")).toContain("matches no allowed");
  });
  it("userinfo that looks like the host: x.vercel.app@evil.example", () => {
    expect(reason("https://x.vercel.app@evil.example")).toContain("userinfo");
  });
  it("userinfo with a port in it: x.vercel.app:443@evil", () => {
    expect(reason("https://x.vercel.app:443@evil")).toContain("userinfo");
  });
  it("a backslash before @: x.vercel.app\\@evil", () => {
    expect(reason("https://x.vercel.app\\@evil")).toContain("backslash");
  });
  it("a backslash anywhere: x.vercel.app\\path and evil.example\\.x.vercel.app", () => {
    expect(reason("https://x.vercel.app\\path")).toContain("backslash");
    expect(reason("https://evil.example\\.x.vercel.app")).toContain("backslash");
  });
  it("a port, even https's own: x.vercel.app:443", () => {
    expect(reason("https://x.vercel.app:443/")).toContain("port");
    expect(reason("https://x.vercel.app:8443")).toContain("port");
  });
  it("http and other schemes", () => {
    expect(reason("http://x.vercel.app")).toContain("only https");
    expect(reason("javascript://x.vercel.app/%0Aalert(1)")).toContain("only https");
    expect(reason("//x.vercel.app")).toContain("only https");
  });
  it("a wildcard that would span two labels: a.b.vercel.app", () => {
    expect(reason("https://a.b.vercel.app")).toContain("matches no allowed");
  });
  it("an empty wildcard: .vercel.app, -acme.netlify.app and vercel.app itself", () => {
    expect(reason("https://.vercel.app")).toContain("empty label");
    expect(reason("https://-acme.netlify.app")).toContain("not a DNS label");
    expect(reason("https://vercel.app")).toContain("matches no allowed");
  });
  it("{pr} with anything but digits: pr-x.preview.acme.dev, pr-4a, pr-042", () => {
    expect(reason("https://pr-x.preview.acme.dev")).toContain("matches no allowed");
    expect(reason("https://pr-4a.preview.acme.dev")).toContain("matches no allowed");
    expect(reason("https://pr-042.preview.acme.dev")).toContain("matches no allowed");
    expect(reason("https://pr-.preview.acme.dev")).toContain("not a DNS label");
  });
  it.each([
    ["dotted IPv4", "https://127.0.0.1"],
    ["decimal IPv4", "https://2130706433"],
    ["hex IPv4", "https://0x7f000001"],
    ["octal IPv4", "https://0177.0.0.1"],
    ["short hex IPv4", "https://0x7f.1"],
    ["IPv6", "https://[::1]/"],
    ["IPv4-mapped IPv6", "https://[::ffff:127.0.0.1]"],
  ])("an IP literal: %s", (_, url) => {
    expect(reason(url)).toMatch(/IP address|port/);
  });
  it("an IDN host, non-ASCII: xn-- punycode and a Cyrillic look-alike", () => {
    expect(reason("https://xn--80ak6aa92e.vercel.app")).toContain("punycode");
    expect(reason("https://x.xn--vercl-7ra.app")).toContain("punycode");
    expect(reason("https://\u0430pp.vercel.app")).toContain("not ASCII");
    expect(reason("https://x.vercel\u3002app")).toContain("not ASCII");
  });
  it("a reserved ??-- label", () => {
    expect(reason("https://ab--cd.vercel.app")).toContain("reserved");
  });
  it("a trailing dot: x.vercel.app.", () => {
    expect(reason("https://x.vercel.app.")).toContain("ends with a dot");
    expect(reason("https://x.vercel.app./")).toContain("ends with a dot");
  });
  it("percent-encoding in the host: x%2evercel.app and %78.vercel.app", () => {
    expect(reason("https://x%2evercel.app")).toContain("percent-encoded");
    expect(reason("https://%78.vercel.app")).toContain("percent-encoded");
  });
  it("spaces, tabs, newlines and control characters", () => {
    expect(reason("https://x.vercel.app\t.evil.example")).toContain("control character");
    expect(reason("https://x.vercel.app\n@evil.example")).toContain("control character");
    expect(reason(" https://x.vercel.app")).toContain("only https");
    expect(reason("https://x.vercel.app\u0000")).toContain("control character");
  });
  it("an empty host and a third slash: https:///x.vercel.app", () => {
    expect(reason("https:///x.vercel.app")).toContain("no host");
    expect(reason("https://")).toContain("no host");
  });
  it("a URL too long to read", () => {
    expect(reason(`https://x.vercel.app/${"a".repeat(CANDIDATE_MAX_CHARS)}`)).toContain("too long");
  });
  it("characters a DNS name cannot have: underscore, !", () => {
    expect(reason("https://x_y.vercel.app")).toContain("characters a DNS name");
    expect(reason("https://x!.vercel.app")).toContain("characters a DNS name");
  });
});

describe("fillPreviewPattern", () => {
  const pr = ALLOWLIST[2];
  it("fills {pr} with a pull request number", () => {
    expect(fillPreviewPattern(pr, 42)).toBe("https://pr-42.preview.acme.dev");
  });
  it.each([0, -1, 1.5, Number.NaN, 1e12, Number.MAX_SAFE_INTEGER + 2])("refuses %p", (n) => {
    expect(fillPreviewPattern(pr, n)).toBeUndefined();
  });
  it("cannot fill a * pattern", () => {
    expect(fillPreviewPattern(ALLOWLIST[0], 42)).toBeUndefined();
  });
});

describe("findPreviewUrl", () => {
  it("takes an allowed link first, then links in the text, then the filled {pr} pattern", () => {
    const text = "Broken on https://evil.example and https://fix-7-acme.netlify.app/page.";
    expect(
      findPreviewUrl(ALLOWLIST, {
        links: ["https://github.com/acme/app/pull/42", "https://feat-acme.vercel.app/x"],
        texts: [text],
        pullRequest: 42,
      }),
    ).toEqual({ url: "https://feat-acme.vercel.app", pattern: "https://*.vercel.app", source: "link" });
    expect(findPreviewUrl(ALLOWLIST, { texts: [text], pullRequest: 42 })).toEqual({
      url: "https://fix-7-acme.netlify.app",
      pattern: "https://*-acme.netlify.app",
      source: "text",
    });
    expect(findPreviewUrl(ALLOWLIST, { texts: ["no link"], pullRequest: 42 })).toEqual({
      url: "https://pr-42.preview.acme.dev",
      pattern: "https://pr-{pr}.preview.acme.dev",
      source: "pull-request",
    });
    expect(findPreviewUrl(ALLOWLIST, { texts: ["no link"] })).toBeUndefined();
    expect(findPreviewUrl([], { links: ["https://x.vercel.app"] })).toBeUndefined();
  });

  it("reads markdown links and autolinks, dropping prose punctuation", () => {
    const found = (text: string) => findPreviewUrl(ALLOWLIST, { texts: [text] })?.url;
    expect(found("[preview](https://a.vercel.app/p)")).toBe("https://a.vercel.app");
    expect(found("<https://b.vercel.app>")).toBe("https://b.vercel.app");
    expect(found("on https://c.vercel.app.")).toBe("https://c.vercel.app");
    expect(found("**https://d.vercel.app**")).toBe("https://d.vercel.app");
  });

  it("reads a look-alike in text whole, and refuses it", () => {
    const found = (text: string) => findPreviewUrl(ALLOWLIST, { texts: [text] });
    expect(found("see https://x.vercel.app@evil.example now")).toBeUndefined();
    expect(found("see https://x.vercel.app:443@evil now")).toBeUndefined();
    expect(found("see https://x.vercel.app\\@evil now")).toBeUndefined();
    expect(found("see https://x.vercel.app%2F@evil.example now")).toBeUndefined();
    expect(found("see https://vercel.app.evil.example/ and https://evil-vercel.app")).toBeUndefined();
  });

  it("stops after SCAN_MAX_CANDIDATES candidates", () => {
    const decoys = Array.from({ length: SCAN_MAX_CANDIDATES }, (_, i) => `https://d${i}.evil.example`);
    expect(
      findPreviewUrl(ALLOWLIST, { texts: [`${decoys.join(" ")} https://late.vercel.app`] }),
    ).toBeUndefined();
    expect(findPreviewUrl(ALLOWLIST, { links: decoys, texts: ["https://late.vercel.app"] })).toBeUndefined();
    expect(
      findPreviewUrl(ALLOWLIST, { texts: [`${decoys.slice(1).join(" ")} https://last.vercel.app`] }),
    ).toMatchObject({ url: "https://last.vercel.app" });
  });

  it("reads at most SCAN_MAX_CHARS of text", () => {
    const filler = "x".repeat(SCAN_MAX_CHARS);
    expect(findPreviewUrl(ALLOWLIST, { texts: [filler, "https://late.vercel.app"] })).toBeUndefined();
    expect(findPreviewUrl(ALLOWLIST, { texts: [`${filler}https://late.vercel.app`] })).toBeUndefined();
    expect(findPreviewUrl(ALLOWLIST, { texts: [filler.slice(30), "https://in.vercel.app"] })).toMatchObject({
      url: "https://in.vercel.app",
    });
  });
});

describe("the allowlist, as a property", () => {
  // Pieces that make look-alikes: suffix fragments, separators, and what URL readers treat specially.
  const piece = fc.constantFrom(
    "x",
    "a-b",
    "vercel",
    "app",
    "vercel.app",
    "acme",
    "-acme",
    "netlify",
    "pr-",
    "42",
    "preview",
    "dev",
    "evil",
    "example",
    ".",
    "..",
    "-",
    "@",
    ":",
    ":443",
    "/",
    "\\",
    "%2e",
    "%40",
    "?",
    "#",
    "[",
    "]",
    "xn--",
    "\u0430",
    "\u3002",
    "\uff0e",
    " ",
    "\t",
    "0x7f",
    "127.0.0.1",
    "A",
  );
  const scheme = fc.constantFrom("https://", "HTTPS://", "http://", "https:/", "https:\\\\", "//", "");
  // Allowed hosts, so that look-alikes are built around them and some candidates are accepted.
  const allowedHost = fc.constantFrom("x.vercel.app", "a-acme.netlify.app", "pr-42.preview.acme.dev", "");
  const candidate = fc
    .tuple(
      fc.oneof({ weight: 3, arbitrary: fc.constant("https://") }, { weight: 1, arbitrary: scheme }),
      fc.array(piece, { maxLength: 4 }),
      allowedHost,
      fc.array(piece, { maxLength: 6 }),
    )
    .map(([s, before, host, after]) => s + before.join("") + host + after.join(""));

  it("never accepts a URL whose host does not end with the pattern's fixed suffix", () => {
    fc.assert(
      fc.property(candidate, (url) => {
        const verdict = checkPreviewUrl(ALLOWLIST, url);
        if (!verdict.ok) return;
        const pattern = ALLOWLIST.find((p) => p.pattern === verdict.pattern) as PreviewPattern;
        // What a browser would reach: the host must be the accepted one and end with the fixed suffix.
        const reached = new URL(url);
        expect(reached.hostname).toBe(new URL(verdict.url).hostname);
        expect(reached.hostname.endsWith(`.${pattern.fixedSuffix}`)).toBe(true);
        expect(reached.hostname.split(".")).toHaveLength(pattern.fixedSuffix.split(".").length + 1);
        expect(`${reached.username}${reached.password}${reached.port}`).toBe("");
        expect(verdict.url).toBe(`https://${reached.hostname}`);
      }),
      { numRuns: 3000 },
    );
  });

  it("accepts exactly the hosts made of one LDH label and the fixed suffix", () => {
    const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?$/);
    fc.assert(
      fc.property(label, fc.constantFrom("", "/", "/p?q#f"), (first, rest) => {
        const url = `https://${first}.vercel.app${rest}`;
        const reserved = first.slice(2, 4) === "--";
        expect(accepted(url)).toBe(reserved ? undefined : `https://${first}.vercel.app`);
      }),
    );
  });

  it("never accepts any URL for a host outside every fixed suffix", () => {
    const host = fc
      .array(fc.stringMatching(/^[a-z0-9-]{1,12}$/), { minLength: 1, maxLength: 4 })
      .map((labels) => labels.join("."));
    fc.assert(
      fc.property(host, fc.constantFrom("com", "app", "dev", "example"), (h, top) => {
        const url = `https://${h}.${top}`;
        const inside = ALLOWLIST.some((p) => `${h}.${top}`.endsWith(`.${p.fixedSuffix}`));
        if (!inside) expect(accepted(url)).toBeUndefined();
      }),
    );
  });
});
