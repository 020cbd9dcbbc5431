import { createInterface } from 'node:readline';

/** Asks for a secret on the terminal without echoing it; reads one line from a pipe otherwise. */
export function promptSecret(question: string): Promise<string> {
  return new Promise((resolve) => {
    const terminal = process.stdin.isTTY === true;
    const reader = createInterface({ input: process.stdin, output: process.stdout, terminal });
    if (terminal) {
      process.stdout.write(question);
      // Mute the echo of typed characters.
      (reader as unknown as { _writeToOutput: (text: string) => void })._writeToOutput = () => {};
    }
    reader.once('line', (line) => {
      reader.close();
      if (terminal) process.stdout.write('\n');
      resolve(line);
    });
  });
}
