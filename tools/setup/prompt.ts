import { createInterface } from "node:readline";

/** How setup asks for what it needs; tests and CI use answers given up front instead of a terminal. */
export interface Prompter {
  /** A visible answer; Enter takes the default. */
  ask(question: string, fallback?: string): Promise<string>;
  /** A credential: what is typed is shown as `*`. */
  secret(question: string): Promise<string>;
  /** Yes or no; Enter takes the default. */
  confirm(question: string, fallback: boolean): Promise<boolean>;
}

/** Thrown when a non-interactive run would have to ask: names what to pass instead. */
export class MissingInputError extends Error {
  override name = "MissingInputError";
}

/** For CI: never asks. A question with a default takes it; any other names what to pass instead. */
export function noPrompter(): Prompter {
  const refuse = (question: string): never => {
    throw new MissingInputError(`${question} (not interactive: pass it as a flag or environment variable)`);
  };
  return {
    ask: async (question, fallback) => (fallback !== undefined ? fallback : refuse(question)),
    secret: async (question) => refuse(question),
    confirm: async (_question, fallback) => fallback,
  };
}

/**
 * Questions on a terminal with node:readline (no dependency that would have to support both Node 20 and 22).
 * A secret is read with the echo replaced by `*`, so it is neither shown nor kept in the scrollback.
 */
export function terminalPrompter(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Prompter {
  const line = (question: string, masked: boolean) =>
    new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input, output, terminal: true });
      let muted = false;
      // readline echoes through _writeToOutput; masking it is the documented-by-use way to hide typing.
      const writer = rl as unknown as { _writeToOutput(text: string): void };
      const original = writer._writeToOutput.bind(rl);
      writer._writeToOutput = (text: string) => {
        if (!muted) return original(text);
        // Keep line breaks (Enter), replace everything typed with one star per character.
        original(text.replace(/[^\r\n]/g, "*"));
      };
      rl.once("close", () => reject(new MissingInputError(`${question} (input closed)`)));
      rl.question(`${question} `, (answer) => {
        rl.removeAllListeners("close");
        rl.close();
        if (masked) output.write("\n");
        resolve(answer.trim());
      });
      muted = masked;
    });
  return {
    ask: async (question, fallback) => {
      const answer = await line(fallback ? `${question} [${fallback}]` : question, false);
      return answer || fallback || "";
    },
    secret: (question) => line(question, true),
    confirm: async (question, fallback) => {
      const answer = (await line(`${question} [${fallback ? "Y/n" : "y/N"}]`, false)).toLowerCase();
      return answer === "" ? fallback : answer.startsWith("y");
    },
  };
}
