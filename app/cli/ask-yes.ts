import readline from 'node:readline/promises';

/** Asks a question on the terminal; true only for an answer of "yes" (a destructive step's go-ahead). */
export async function askYes(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim().toLowerCase() === 'yes';
  } finally {
    rl.close();
  }
}
