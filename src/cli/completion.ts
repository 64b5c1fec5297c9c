import type { Command } from 'commander';
import { ExitCode } from './exit.js';

/** A command as completion sees it: its name, its flags, and which flags take a value. */
interface CommandShape {
  readonly path: string[];
  readonly flags: string[];
  readonly valueFlags: string[];
  readonly subcommands: string[];
  /** Values the command's first argument takes, when it has a fixed set. */
  readonly values: string[];
  /** Choices of a flag's value, e.g. --lang → en zh. */
  readonly choices: Record<string, string[]>;
}

type Shell = 'bash' | 'zsh' | 'fish';

/**
 * `linkface completion bash|zsh|fish`: prints a completion script built from the program's own definition,
 * so every command and flag is in it. (Commander has already checked the shell's name.)
 */
export function runCompletionCommand(shell: Shell, program: Command): number {
  const shapes = collect(program, []);
  process.stdout.write(RENDERERS[shell](shapes));
  return ExitCode.Ok;
}

function collect(command: Command, path: string[]): CommandShape[] {
  const flags: string[] = [];
  const valueFlags: string[] = [];
  const choices: Record<string, string[]> = {};
  for (const option of command.options) {
    const names = [option.short, option.long].filter((n): n is string => Boolean(n));
    flags.push(...names);
    if (option.required || option.optional) valueFlags.push(...names);
    if (option.argChoices) for (const name of names) choices[name] = option.argChoices;
  }
  flags.push('--help');
  const values = command.registeredArguments[0]?.argChoices ?? [];
  const own: CommandShape = { path, flags, valueFlags, subcommands: command.commands.map((c) => c.name()), values, choices };
  return [own, ...command.commands.flatMap((child) => collect(child, [...path, child.name()]))];
}

const key = (shape: CommandShape) => shape.path.join(' ');

const RENDERERS: Record<Shell, (shapes: CommandShape[]) => string> = {
  bash: (shapes) => {
    const cases = shapes
      .map((shape) => {
        const choiceCases = Object.entries(shape.choices)
          .map(([flag, values]) => `        ${flag}) COMPREPLY=($(compgen -W "${values.join(' ')}" -- "$cur")); return ;;`)
          .join('\n');
        const valueFlags = shape.valueFlags.length ? `        ${shape.valueFlags.join('|')}) COMPREPLY=($(compgen -f -- "$cur")); return ;;` : '';
        return `    "${key(shape)}")
      case "$prev" in
${[choiceCases, valueFlags].filter(Boolean).join('\n')}
      esac
      words_here="${[...shape.subcommands, ...shape.values, ...shape.flags].join(' ')}"
      files=${shape.path[0] === 'upload' ? 1 : 0}
      ;;`;
      })
      .join('\n');
    return `# bash completion for linkface; load with: source <(linkface completion bash)
_linkface() {
  local cur prev path="" words_here="" files=0 i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      -*) ;;
      *) case " ${shapes.map(key).filter(Boolean).join(' | ')} " in
           *" \${path:+$path }\${COMP_WORDS[i]} "*) path="\${path:+$path }\${COMP_WORDS[i]}" ;;
         esac ;;
    esac
  done
  case "$path" in
${cases}
  esac
  if [[ "$cur" != -* && "$files" == 1 ]]; then
    COMPREPLY=($(compgen -W "$words_here" -f -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$words_here" -- "$cur"))
  fi
}
complete -o filenames -F _linkface linkface
`;
  },
  zsh: (shapes) => {
    const cases = shapes
      .map((shape) => {
        const specs = shape.flags.map((flag) => {
          const values = shape.choices[flag];
          if (values) return `'${flag}[]:value:(${values.join(' ')})'`;
          return shape.valueFlags.includes(flag) ? `'${flag}[]:value:_files'` : `'${flag}[]'`;
        });
        const subs = shape.subcommands.length
          ? ` '1:command:(${shape.subcommands.join(' ')})'`
          : shape.values.length
            ? ` '1:value:(${shape.values.join(' ')})'`
            : shape.path[0] === 'upload'
              ? " '*:input:_files'"
              : '';
        return `    "${key(shape)}") _arguments ${specs.join(' ')}${subs} ;;`;
      })
      .join('\n');
    return `#compdef linkface
# zsh completion for linkface; load with: source <(linkface completion zsh)
_linkface() {
  local path="" word
  for word in \${words[2,CURRENT-1]}; do
    [[ "$word" == -* ]] && continue
    case " ${shapes.map(key).filter(Boolean).join(' | ')} " in
      *" \${path:+$path }$word "*) path="\${path:+$path }$word" ;;
    esac
  done
  case "$path" in
${cases}
  esac
}
compdef _linkface linkface
`;
  },
  fish: (shapes) => {
    const lines = ['# fish completion for linkface; load with: linkface completion fish | source', 'complete -c linkface -f'];
    for (const shape of shapes) {
      const condition = shape.path.length === 0 ? '__fish_use_subcommand' : `__fish_seen_subcommand_from ${shape.path[shape.path.length - 1]}`;
      for (const word of [...shape.subcommands, ...shape.values]) lines.push(`complete -c linkface -n '${condition}' -a ${word}`);
      for (const flag of shape.flags) {
        const name = flag.startsWith('--') ? `-l ${flag.slice(2)}` : `-s ${flag.slice(1)}`;
        const values = shape.choices[flag];
        const argument = values ? ` -r -a '${values.join(' ')}'` : shape.valueFlags.includes(flag) ? ' -r -F' : '';
        lines.push(`complete -c linkface -n '${condition}' ${name}${argument}`);
      }
      if (shape.path[0] === 'upload') lines.push(`complete -c linkface -n '${condition}' -F`);
    }
    return `${lines.join('\n')}\n`;
  },
};
