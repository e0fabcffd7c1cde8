/** One line on the terminal as it happens (not buffered with the test's console output): seeds, kill points, results. */
export function say(line: string): void {
  process.stderr.write(`${line}\n`);
}
