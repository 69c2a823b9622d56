import type { IncomingMessage, ServerResponse } from "node:http";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { MAX_BODY_BYTES } from "../functions/shared/webhook/handler";

/** The request body, or null once it passes MAX_BODY_BYTES (the rest is not buffered). */
export function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners("data");
        req.resume();
        resolve(null);
      } else chunks.push(chunk);
    });
    req.once("end", () => resolve(size > MAX_BODY_BYTES ? null : Buffer.concat(chunks, size)));
    req.once("error", reject);
  });
}

/** The API Gateway (HTTP API, payload 2.0) event for a request, as the deployed endpoint hands it over. */
export function toApiGatewayEvent(req: IncomingMessage, body: Buffer): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(",") : value;
  }
  const url = new URL(req.url ?? "/", "http://localhost");
  const query = url.searchParams.size ? Object.fromEntries(url.searchParams) : undefined;
  const cookies = headers.cookie?.split(";").map((c) => c.trim());
  return {
    version: "2.0",
    routeKey: `${req.method} ${url.pathname}`,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(query ? { queryStringParameters: query } : {}),
    ...(cookies ? { cookies } : {}),
    requestContext: {
      domainName: headers.host ?? "",
      http: { method: req.method ?? "", path: url.pathname },
    },
    body: body.toString("base64"),
    isBase64Encoded: true,
  } as unknown as APIGatewayProxyEventV2;
}

/** Writes a Lambda proxy result as the HTTP answer. */
export function send(res: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  const headers: Record<string, string | string[]> = { ...(result.headers as Record<string, string>) };
  // API Gateway (payload 2.0) turns `cookies` into Set-Cookie headers.
  if (result.cookies?.length) headers["set-cookie"] = result.cookies;
  res.writeHead(result.statusCode ?? 200, headers);
  res.end(result.body ?? "");
}
