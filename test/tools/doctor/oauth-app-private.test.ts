import { parseOrgConfig } from "../../../lib/config";
import { oauthAppPrivate } from "../../../tools/doctor/doctor";

describe("doctor's row on whether the Linear OAuth app is private", () => {
  it("says Linear's API cannot tell, where to look by hand, and that other workspaces are refused anyway", () => {
    const config = parseOrgConfig(
      "acme",
      { qatech: {}, linear: { agent: { enabled: true, clientId: "qa_ticket_client_1234" } } },
      "test config",
    );

    const row = oauthAppPrivate(config);

    expect(row).toMatchObject({ check: "Linear OAuth app private", status: "ok" });
    expect(row.detail).toContain("cannot be read through Linear's API");
    expect(row.detail).toContain("client ID qa_ticket_client_1234");
    expect(row.detail).toContain("refuses any other");
  });
});
