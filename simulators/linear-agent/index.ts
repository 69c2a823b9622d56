/**
 * Linear as an agent platform, plugged into the Linear simulator (simulators/linear.ts): the OAuth install
 * (authorize page, token endpoint with rotating refresh tokens, revoke), the Agent API (sessions, activities),
 * signed AgentSessionEvent webhooks, the 10-second rule and a per-app-user request budget. As strict as Linear
 * where Linear's rules are known; each rule names its source by one of these keys, or says that it is an assumption:
 * [OA] https://linear.app/developers/oauth-2-0-authentication, [ACT] https://linear.app/developers/oauth-actor-authorization,
 * [AG] https://linear.app/developers/agents, [AI] https://linear.app/developers/agent-interaction,
 * [BP] https://linear.app/developers/agent-best-practices, [SIG] https://linear.app/developers/agent-signals,
 * [RL] https://linear.app/developers/rate-limiting, [WH] https://linear.app/developers/webhooks,
 * [SDK98] the @linear/sdk 98 package (dist/index.d.mts, dist/index.mjs), [OI] github.com/ColeMurray/background-agents
 * (packages/linear-bot), [WB] github.com/linear/weather-bot.
 */
// The platform in parts: types.ts (what tests read), http.ts (the wire), oauth.ts (the install and the
// request budget), sessions.ts (the Agent API), people.ts (what people do, and the webhooks): one class,
// FakeLinearAgent, built up in that order.
export { DELEGATION_COMMENT, FakeLinearAgent, RESPONSE_WINDOW_MS } from "./people";
export type {
  FakeAgentActivity,
  FakeAgentDelivery,
  FakeAgentSession,
  FakeLinearAgentOptions,
  FakePlanStep,
  FakeThreadComment,
} from "./types";
