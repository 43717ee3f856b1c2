/** `ptd doctor`: placeholder wired below. */
import { Command } from "commander";
export function doctorCommand(setCode: (code: number) => void): Command {
  return new Command("doctor").action(() => setCode(0));
}
