#!/usr/bin/env python3
"""The rules of docs/cli.md, checked against every command's --help.

    cli_rules.py DMAKIT DOCS_CLI_MD TIME_OPTIONS_OUT

--help is the one source the man pages and completion are generated from
(scripts/gen-cli-docs.py), so it is the options table checked here:
  - a short letter means one long option in every command;
  - docs/cli.md's table lists exactly those letters, long names and commands;
  - every command has --json, -q, --quiet ("print only errors") and
    -h, --help;
  - every time option is written TIME (and every TIME option is a time).
Writes "COMMAND --option" per time option to TIME_OPTIONS_OUT for the
behavioural checks in cli_rules.sh.  Prints ok/not ok lines; exit 1 if any
failed.
"""
import re
import subprocess
import sys

# "  -d, --device DEV  text", "      --json  text", "  --pci BDF  text"
OPTION = re.compile(r'^ {1,8}(?:-([A-Za-z0-9]), )?--([a-z][a-z0-9-]*)'
                    r'(?:[ =]([A-Z][A-Z0-9_.:,|\[\]-]*))?(?:\s+(.*))?$')
SHORT_ONLY = re.compile(r'^ {1,8}-([A-Za-z0-9])(?:\s|$)')
# options that take a time, by name, wherever they appear
TIME_NAMES = {'duration', 'timeout', 'idle-timeout', 'interval',
              'checkpoint', 'status-interval', 'poll-period'}

failed = 0


def check(what, cond, detail=''):
    global failed
    if cond:
        print('ok - ' + what)
    else:
        failed += 1
        print('not ok - ' + what + (': ' + detail if detail else ''))


def run(*args):
    return subprocess.run(args, text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)


def commands(dmakit):
    out = run(dmakit, '--help').stdout.split('\n')
    i = out.index('commands:')
    cmds = []
    for line in out[i + 1:]:
        m = re.match(r'^  ([a-z]+)\s', line)
        if not m:
            break
        cmds.append(m.group(1))
    return cmds


def options(help_text):
    """[(short or None, long, metavar or None, text)] of the option lines."""
    opts = []
    lines = help_text.split('\n')
    for n, line in enumerate(lines):
        m = OPTION.match(line)
        if m:
            text = m.group(4) or ''
            # the description goes on in deeper-indented lines
            for more in lines[n + 1:]:
                if not more.strip() or OPTION.match(more):
                    break
                text += ' ' + more.strip()
            opts.append((m.group(1), m.group(2), m.group(3), text))
            continue
        m = SHORT_ONLY.match(line)
        if m:
            opts.append((m.group(1), None, None, line))
    return opts


def docs_table(path):
    """{(letter, long): set of commands} from docs/cli.md's short table."""
    rows = {}
    for line in open(path):
        m = re.match(r'^\| `-(\w)` \| `--([a-z-]+)` \| [^|]+ \| ([^|]+) \|$',
                     line.rstrip())
        if m:
            rows[(m.group(1), m.group(2))] = {
                c.strip() for c in m.group(3).split(',')}
    return rows


def main():
    dmakit, docs, time_out = sys.argv[1:4]
    cmds = commands(dmakit)
    check('the command table lists commands', len(cmds) >= 10, str(cmds))
    letters = {}        # letter -> {long: [cmds]}
    time_opts = []
    for cmd in cmds:
        r = run(dmakit, cmd, '--help')
        check('%s --help exits 0' % cmd, r.returncode == 0)
        opts = options(r.stdout)
        longs = {o[1] for o in opts}
        check('%s has --json' % cmd, 'json' in longs)
        pairs = {(o[0], o[1]) for o in opts}
        check('%s has -h, --help' % cmd, ('h', 'help') in pairs)
        check('%s has -q, --quiet' % cmd, ('q', 'quiet') in pairs)
        for short, long_, metavar, text in opts:
            if short:
                check('%s: -%s has a long form' % (cmd, short),
                      long_ is not None, 'a bare short option')
                letters.setdefault(short, {}).setdefault(long_, []).append(cmd)
            if short == 'q' or long_ == 'quiet':
                check('%s: -q is --quiet, "print only errors"' % cmd,
                      short == 'q' and long_ == 'quiet' and
                      text.startswith('print only errors'), text)
            if long_ in TIME_NAMES:
                check('%s --%s is written TIME' % (cmd, long_),
                      metavar == 'TIME', str(metavar))
            if metavar == 'TIME':
                check('%s --%s (TIME) is a time option' % (cmd, long_),
                      long_ in TIME_NAMES)
                time_opts.append('%s --%s' % (cmd, long_))
    for letter, by_long in sorted(letters.items()):
        check('-%s means one option everywhere' % letter, len(by_long) == 1,
              '; '.join('--%s in %s' % (lo, ','.join(c))
                        for lo, c in by_long.items()))
    table = docs_table(docs)
    found = {(letter, lo): set(c) for letter, by_long in letters.items()
             for lo, c in by_long.items()}
    # docs say "all" for -h and -q
    for key in table:
        if table[key] == {'all'}:
            table[key] = set(cmds)
    check('docs/cli.md lists every short option --help has',
          set(found) <= set(table), str(sorted(set(found) - set(table))))
    check('docs/cli.md lists no short option --help lacks',
          set(table) <= set(found), str(sorted(set(table) - set(found))))
    for key in sorted(set(found) & set(table)):
        check('docs/cli.md: -%s --%s in %s' % (key[0], key[1],
                                              ', '.join(sorted(found[key]))),
              found[key] == table[key], 'docs say %s' % sorted(table[key]))
    with open(time_out, 'w') as f:
        f.write('\n'.join(time_opts) + '\n')
    check('time options found in several commands', len(time_opts) >= 10,
          str(time_opts))
    print('cli_rules.py: %d failed' % failed)
    return 1 if failed else 0


sys.exit(main())
