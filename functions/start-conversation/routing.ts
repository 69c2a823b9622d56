/** Which QA.tech project, applications, instruction and change review a new conversation takes (settings `routes`). */
import { keyPrefix, type RoutingFacts, selectRoute } from "../shared/domain/route";
import type { Ticket } from "../shared/domain/ticket";
import type { WorkflowState } from "../shared/domain/workflow-state";
import type { Settings } from "../shared/platform/settings";

type Qatech = Settings["qatech"];
type RouteSettings = NonNullable<Settings["routes"]>[number];

/** What a conversation is opened with: the top-level qatech block, with a route's fields in place of its own. */
export interface Destination {
  projectShortId?: string;
  applicationOverrides: Qatech["applicationOverrides"];
  instruction?: string;
  changeReview: Qatech["changeReview"];
  gitlabHosts: Qatech["gitlabHosts"];
  /** The allowlist of the ticket's own preview deployments (domain/preview-env.ts). */
  previewUrls: Qatech["previewUrls"];
  /** The route that chose it, for the state (and so the acknowledgement); absent: no route fits. */
  route?: NonNullable<WorkflowState["route"]>;
}

/** What routing knows of the ticket: its tracker, its team or project key from its key, its labels. */
export function routingFacts(ticket: Ticket, labels: readonly string[]): RoutingFacts {
  const home = keyPrefix(ticket.key);
  return ticket.tracker === "jira"
    ? { tracker: "jira", projectKey: home, labels }
    : { tracker: ticket.tracker, teamKey: home, labels };
}

/** Whether any route matches on labels: only then are a ticket's labels read back when it carries none. */
export function routesUseLabels(routes: readonly RouteSettings[]): boolean {
  return routes.some((route) => route.match.labels !== undefined);
}

function destinationOf(qatech: Qatech, route: RouteSettings | undefined): Destination {
  const top: Destination = {
    projectShortId: qatech.projectShortId,
    applicationOverrides: qatech.applicationOverrides,
    instruction: qatech.instruction,
    changeReview: qatech.changeReview,
    gitlabHosts: qatech.gitlabHosts,
    previewUrls: qatech.previewUrls,
  };
  if (!route) return top;
  const applicationOverrides = route.applicationOverrides ?? top.applicationOverrides;
  return {
    ...top,
    projectShortId: route.projectShortId ?? top.projectShortId,
    applicationOverrides,
    instruction: route.instruction ?? top.instruction,
    changeReview: route.changeReview ?? top.changeReview,
    previewUrls: route.previewUrls ?? top.previewUrls,
    route: {
      name: route.name,
      ...(route.projectShortId ? { projectShortId: route.projectShortId } : {}),
      applications: applicationOverrides.map((a) => a.applicationShortId),
    },
  };
}

/**
 * Where the ticket's new conversation goes: the first route whose match fits the ticket's facts (never its
 * text), else the top-level qatech block. A `retry` in a thread stays in the project the thread's
 * conversation was opened in (its signed marker's, or the top-level one for a marker without a project):
 * a route that now sends the ticket to another project is not taken, as its applications are that project's.
 */
export function destination(
  s: Pick<Settings, "qatech" | "routes">,
  state: Pick<WorkflowState, "ticket" | "thread">,
  labels: readonly string[],
): Destination {
  const route = selectRoute(s.routes ?? [], routingFacts(state.ticket, labels));
  const chosen = destinationOf(s.qatech, route);
  const previous = state.thread?.action === "retry" ? state.thread.conversation : undefined;
  if (!previous) return chosen;
  const pinned = previous.projectShortId ?? s.qatech.projectShortId;
  if (chosen.projectShortId === pinned) return chosen;
  return { ...destinationOf(s.qatech, undefined), projectShortId: pinned };
}
