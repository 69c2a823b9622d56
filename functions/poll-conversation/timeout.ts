/**
 * The poll function's Lambda timeout: the stack deploys it and the local runner gives the handler the same
 * time. It covers the inline waits (INLINE_BUDGET_SECONDS, 60 s) and the reads between them; the handler
 * itself stops in time (see handler), so a slow QA.tech ends an invocation early, never in a timeout.
 */
export const POLL_TIMEOUT_SECONDS = 120;
