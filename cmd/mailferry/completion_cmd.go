package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// The shell scripts ask mailferry itself for the words that may come next
// (urfave/cli's --generate-bash-completion), so they follow the commands
// and flags as they are defined, with nothing to regenerate.
const bashCompletion = `# mailferry completion for bash: source it, or put it in
# /etc/bash_completion.d/mailferry
_mailferry() {
  local cur=${COMP_WORDS[COMP_CWORD]}
  local words=("${COMP_WORDS[@]:0:COMP_CWORD}")
  local ask="--generate-bash-completion"
  [[ $cur == -* ]] && words+=("$cur")
  COMPREPLY=($(compgen -W "$("${words[@]}" $ask 2>/dev/null)" -- "$cur"))
}
complete -o default -F _mailferry mailferry
`

const zshCompletion = `#compdef mailferry
# mailferry completion for zsh: put it in a directory of $fpath as _mailferry
_mailferry() {
  local -a next
  local cur=${words[CURRENT]}
  local -a before=(${words[1,CURRENT-1]})
  [[ $cur == -* ]] && before+=($cur)
  next=("${(@f)$(${before[@]} --generate-bash-completion 2>/dev/null)}")
  if [[ -n ${next[1]} ]]; then
    compadd -a next
  else
    _files
  fi
}
compdef _mailferry mailferry
`

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print shell completion for bash, zsh or fish",
		ArgsUsage: "bash|zsh|fish",
		Description: "bash: mailferry completion bash > /etc/bash_completion.d/mailferry\n" +
			"zsh:  mailferry completion zsh > \"${fpath[1]}/_mailferry\"\n" +
			"fish: mailferry completion fish > ~/.config/fish/completions/mailferry.fish",
		Action: func(c *cli.Context) error {
			switch c.Args().First() {
			case "bash":
				fmt.Fprint(c.App.Writer, bashCompletion)
			case "zsh":
				fmt.Fprint(c.App.Writer, zshCompletion)
			case "fish":
				// From a fresh definition: urfave/cli grafts its help
				// command into the running one, which the fish generator
				// can walk into forever.
				s, err := newApp().ToFishCompletion()
				if err != nil {
					return err
				}
				fmt.Fprint(c.App.Writer, s)
			default:
				return cli.Exit(fmt.Sprintf("completion %q: the shells are bash, zsh and fish", c.Args().First()), exitStatusUsage)
			}
			return nil
		},
	}
}

func manCommand() *cli.Command {
	return &cli.Command{
		Name:  "man",
		Usage: "print the manual page (man -l <(mailferry man))",
		Action: func(c *cli.Context) error {
			s, err := newApp().ToManWithSection(1)
			if err != nil {
				return err
			}
			fmt.Fprint(c.App.Writer, s)
			return nil
		},
	}
}
