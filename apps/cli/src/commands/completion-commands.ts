import { Argument } from "commander";
import type { CommandGroup } from "../command.js";
import { bashCompletionScript, zshCompletionScript } from "../completion/completion-scripts.js";

/** `ecodrix completion bash|zsh`: prints a completion script for the whole command tree. */
export const completionCommands: CommandGroup = (program, context) => {
  program
    .command("completion")
    .description("print a shell completion script (bash or zsh)")
    .addArgument(new Argument("<shell>", "bash or zsh").choices(["bash", "zsh"]))
    .addHelpText(
      "after",
      `
Examples:
  source <(ecodrix completion bash)          # in ~/.bashrc
  source <(ecodrix completion zsh)           # in ~/.zshrc, after compinit
  ecodrix completion zsh > "\${fpath[1]}/_ecodrix"`,
    )
    .action((shell: "bash" | "zsh") => {
      const script = shell === "bash" ? bashCompletionScript(program) : zshCompletionScript(program);
      context.io.stdout.write(script);
    });
};
