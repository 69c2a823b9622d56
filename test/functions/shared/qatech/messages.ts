/** Chat messages as QA.tech shows them, shared by the reply and client tests. */
import {
  type ChatMessage,
  type ConversationRef,
  messageDigest,
} from "../../../../functions/shared/qatech/client";

export const OUR_TEXT = "Create a test for ENG-42\n\nCheckout crashes on empty cart";
export const OURS = messageDigest(OUR_TEXT);

let clock = Date.parse("2026-11-20T10:00:00.000Z");
/** A message as QA.tech shows it; each one is created a second after the previous. */
export function msg(role: ChatMessage["role"], text: string, more: Partial<ChatMessage> = {}): ChatMessage {
  clock += 1000;
  return {
    id: `msg_${clock}`,
    role,
    createdAt: new Date(clock).toISOString(),
    text,
    status: "COMPLETED",
    isStreaming: false,
    ...more,
  };
}

/** Moves the messages' clock on by `ms` and returns that time, as QA.tech would write it. */
export function advanceClock(ms: number): string {
  clock += ms;
  return new Date(clock).toISOString();
}

/** Messages given oldest first, returned newest first like the API. */
export const conversation = (...oldestFirst: ChatMessage[]) => oldestFirst.slice().reverse();

const CHAT = { id: "chat_1", url: "https://app.qa.tech/p/proj_demo/chat/chat_1" };
/** A follow-up we sent to a conversation with earlier exchanges: ours is found by its digest. */
export const FOLLOW_UP: ConversationRef = { ...CHAT, sentDigest: OURS };
/** A conversation we opened: nothing came before our message. */
export const OPENED: ConversationRef = { ...CHAT, sentDigest: OURS, opened: true };
