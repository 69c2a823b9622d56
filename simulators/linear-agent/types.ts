import type { FakeLinearIssue } from "../linear";

/** Options of the agent platform. */
export interface FakeLinearAgentOptions {
  clientId?: string;
  clientSecret?: string;
  /** The OAuth app's webhook signing secret ([OI], [WB]: the app's own, not a workspace webhook's). */
  webhookSecret?: string;
  /** The app user's id in the workspace ([AG]: one per workspace). Default "app-user-qa". */
  appUserId?: string;
  organization?: { id: string; name: string; urlKey: string };
  /**
   * Other workspaces whose admins may consent too: Linear's consent page lets the person pick the workspace
   * ([ACT]: actor=app installs into the workspace chosen there), and a public app can be installed by any
   * workspace's admin. The form's `organization` field picks one; the default is `organization`.
   */
  otherOrganizations?: Array<{ id: string; name: string; urlKey: string }>;
  /** Access token lifetime ([OA]: 86399 s). */
  accessTokenTtlSeconds?: number;
  /** Requests per app user and window ([RL]: 5,000 an hour per "User (or App User)"). */
  rateLimit?: { requests: number; windowMs: number };
  /**
   * Whether agentSessionCreateOnIssue is followed by a `created` webhook like a mention's. Not documented
   * ([AI] only says it starts a session): on by default, the harder case for the integration.
   */
  notifyProactiveSessions?: boolean;
  /**
   * The workspace's and teams' agent guidance, sent with every `created` as `guidance` and inside
   * `promptContext` (https://linear.app/developers/agent-interaction).
   */
  guidance?: Array<{ body: string; origin?: Record<string, unknown> }>;
}

/** A comment of a session's thread as the simulator keeps it. */
export interface FakeThreadComment {
  id: string;
  body: string;
  userId: string;
}

/** One activity of a session as the fake stores it. */
export interface FakeAgentActivity {
  id: string;
  sessionId: string;
  content: { type: string; body?: string; [key: string]: unknown };
  ephemeral: boolean;
  signal?: string;
  userId: string;
  createdAt: string;
}

/** A step of a session's plan ([AI] https://linear.app/developers/agent-interaction#agent-plans). */
export interface FakePlanStep {
  content: string;
  status: "pending" | "inProgress" | "completed" | "canceled";
}

/** One agent session. */
export interface FakeAgentSession {
  id: string;
  issue: FakeLinearIssue & { id: string };
  creatorId?: string;
  /** [AI] pending, active, error, awaitingInput, complete, stale. */
  status: string;
  externalUrls: Array<{ label: string; url: string }>;
  /** Every activity, ephemeral ones replaced by the next as Linear shows them ([AI]). */
  activities: FakeAgentActivity[];
  /** Every activity ever created in it, replaced ephemeral ones included, in order. */
  history: FakeAgentActivity[];
  /** The plan the agent set last (agentSessionUpdate's `plan`, each one a full replacement); none before. */
  plan?: FakePlanStep[];
  /** Every plan the agent set, in order: what people saw over the session's life. */
  planHistory: FakePlanStep[][];
  /** The mention's comment text, when a mention opened it. */
  comment?: string;
  /**
   * The thread the session belongs to, root first, when a comment opened it: for a mention in a reply, the
   * earlier comments and then the mention ([AI]: the session's `comment` is the thread's root, and
   * `previousComments` the comments before the mention).
   */
  thread?: FakeThreadComment[];
  /** Delegated (assigned) rather than mentioned: Linear's own system comment roots the thread. */
  delegated?: boolean;
  createdAt: number;
  /** When the first activity or externalUrls arrived (ms since the epoch): the 10-second rule. */
  firstResponseAt?: number;
}

/** One webhook the fake delivered. */
export interface FakeAgentDelivery {
  delivery: string;
  action: string;
  sessionId: string;
  status: number;
  body: Record<string, unknown>;
  payload: Record<string, unknown>;
}
