#!/usr/bin/env python3
"""Regenerates the example outputs of README.md from the commands they show.

A generated block is a fenced block between two HTML comments:

    <!-- readme-run -->
    ```
    $ build/epsim trace validate mixtral.trace
    (output, rewritten by this script)
    ```
    <!-- /readme-run -->

Every `$ ` line of the block (with its `\\` continuation lines) is run as
shown, by bash, and everything else in the block is replaced by what it
prints, then `(exit N)` when it exits non-zero. Commands run on a
pseudo-terminal (stdout and stderr both), so that the two interleave as a
reader's terminal shows them (through a pipe stdout is block-buffered, and
its lines come out at other places among stderr's); progress bars are off
(EPSIM_PROGRESS=0). The opening comment may span lines and carry options,
one per line (a line starting with `#` is a comment):

    setup: SHELL      runs before the block's commands, not shown (inputs a
                      command needs that no earlier step makes); repeatable
    N drop REGEX      drops the lines of command N's output matching REGEX
                      (what varies between runs: wall times)
    N lines SPEC      keeps only these lines of command N's output (after
                      drop), 1-based, e.g. `1..8,12,-3..-1` (negative from
                      the end, `20..` to the end); `...` marks each cut

All blocks run in README order in one scratch directory, so a step can read
what an earlier one wrote (import, then trace show). The scratch directory
looks like the project root a reader types the commands in: `build` is the
folder of the epsim binary given, `models` and `topologies` link to the
source tree's (EPSIM_DATA_DIR points there, so headers print
`models/NAME.textproto`, as they do at the project root), and `../shared` is
the shared data folder. The scratch directory's and the source tree's paths
are printed relative, and trailing blanks are dropped.

A fenced block that shows a `$ ` command but is not generated must be
preceded by `<!-- readme-static: WHY -->` (measured on a machine, needs MPI,
...); a block with neither is an error, so new examples are not forgotten.

Exit status: 0 done, 1 a malformed marker or a command that timed out,
77 the shared data folder is missing (nothing can be regenerated).
"""
import argparse
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import tempfile
import termios
import time

OPEN = re.compile(r"^<!-- readme-run(?P<body>.*?)-->\s*$", re.S)
CLOSE = "<!-- /readme-run -->"
STATIC = re.compile(r"^<!-- readme-static: .+-->\s*$")
FENCE = re.compile(r"^```")
TIMEOUT_S = 60


class MarkerError(Exception):
    pass


def ParseOptions(body, where):
    """Returns (setup script, {command index: [(kind, arg)]})."""
    setup, per_command = [], {}
    for raw in body.splitlines():
        text = raw.strip()
        if not text or text.startswith("#") or text == ":":
            continue
        if text.startswith("setup:"):
            setup.append(text[len("setup:"):].strip())
            continue
        m = re.match(r"^(\d+)\s+(lines|drop)\s+(.+)$", text)
        if not m:
            raise MarkerError(f"{where}: readme-run option not understood: {text!r}")
        per_command.setdefault(int(m.group(1)), []).append((m.group(2), m.group(3)))
    return "\n".join(setup), per_command


def KeepLines(lines, spec, where):
    """The lines SPEC selects, with `...` where lines were cut."""
    n, keep = len(lines), set()
    for item in spec.replace(" ", "").split(","):
        m = re.match(r"^(-?\d+)(\.\.(-?\d+)?)?$", item)
        if not m:
            raise MarkerError(f"{where}: bad line range {item!r}")
        first = int(m.group(1))
        last = first if m.group(2) is None else (int(m.group(3)) if m.group(3) else n)
        first, last = [x + n + 1 if x < 0 else x for x in (first, last)]
        keep.update(range(max(first, 1), min(last, n) + 1))
    out, previous = [], 0
    for i in sorted(keep):
        if i != previous + 1:
            out.append("...")
        out.append(lines[i - 1])
        previous = i
    if previous != n:
        out.append("...")
    return out


def SplitCommands(block, where):
    """[(shown lines, command text)] of a block's `$ ` lines; the rest is output."""
    commands = []
    for line in block:
        if commands and commands[-1][-1].endswith("\\"):
            commands[-1].append(line)
        elif line.startswith("$ "):
            commands.append([line])
        elif not commands and line.strip():
            raise MarkerError(f"{where}: text before the block's first `$ ` command")
    if not commands:
        raise MarkerError(f"{where}: a readme-run block without a `$ ` command")
    return [(c, "\n".join(c)[2:]) for c in commands]


class Runner:
    """Runs commands in the scratch project root; see the module comment."""

    def __init__(self, epsim, shared, source):
        self.tmp = tempfile.mkdtemp(prefix="epsim-readme-")
        self.cwd = os.path.join(self.tmp, "epsim")
        os.mkdir(self.cwd)
        os.symlink(shared, os.path.join(self.tmp, "shared"))
        os.symlink(os.path.dirname(epsim), os.path.join(self.cwd, "build"))
        for data in ("models", "topologies"):
            os.symlink(os.path.join(source, data), os.path.join(self.cwd, data))
        # Longest first: the scratch root lies inside the temporary folder.
        self.relative = [(self.cwd, ""), (self.tmp, "../"), (os.path.realpath(shared), "../shared/"),
                         (source, "")]
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("EPSIM_")}
        self.env.update(EPSIM_DATA_DIR=self.cwd, EPSIM_PROGRESS="0", LC_ALL="C", TZ="UTC",
                        PATH=os.path.dirname(epsim) + os.pathsep + os.environ.get("PATH", ""))

    def Close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def Run(self, command, where):
        """(output lines, exit code) of `bash -c command` on a terminal."""
        master, slave = pty.openpty()
        attrs = termios.tcgetattr(slave)
        attrs[1] &= ~termios.OPOST  # no \r\n for \n
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        child = subprocess.Popen(["bash", "-c", command], cwd=self.cwd, env=self.env,
                                 stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
                                 start_new_session=True)
        os.close(slave)
        data, deadline = b"", time.monotonic() + TIMEOUT_S
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    child.kill()
                    child.wait()
                    raise MarkerError(f"{where}: `{command}` ran over {TIMEOUT_S} s")
                ready, _, _ = select.select([master], [], [], left)
                if not ready:
                    continue
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: every writer has closed the terminal
                    break
                if not chunk:
                    break
                data += chunk
        finally:
            os.close(master)
        rc = child.wait()
        text = data.decode("utf-8", "replace")
        for path, relative in self.relative:
            text = text.replace(path + "/", relative)
        return [line.rstrip() for line in text.splitlines()], rc


def Regenerate(text, runner, name):
    """README text with every readme-run block rewritten."""
    lines, out, i, blocks = text.split("\n"), [], 0, 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("<!-- readme-run"):
            start = i
            while i < len(lines) and "-->" not in lines[i]:
                i += 1
            if i == len(lines):
                raise MarkerError(f"{name}:{start + 1}: readme-run marker without its `-->`")
            m = OPEN.match("\n".join(lines[start:i + 1]))
            if not m:
                raise MarkerError(f"{name}:{start + 1}: malformed readme-run marker")
            setup, options = ParseOptions(m.group("body"), f"{name}:{start + 1}")
            out.extend(lines[start:i + 1])
            i += 1
            if i >= len(lines) or not FENCE.match(lines[i]):
                raise MarkerError(f"{name}:{start + 1}: readme-run not followed by a ``` block")
            fence, body_start = lines[i], i + 1
            i += 1
            while i < len(lines) and not FENCE.match(lines[i]):
                i += 1
            if i + 1 >= len(lines) or lines[i + 1] != CLOSE:
                raise MarkerError(f"{name}:{start + 1}: block not closed by `{CLOSE}`")
            where = f"{name}:{start + 1}"
            out.append(fence)
            out.extend(RunBlock(lines[body_start:i], setup, options, runner, where))
            out.extend([lines[i], CLOSE])
            i += 2
            blocks += 1
            continue
        if FENCE.match(line):
            end = i + 1
            while end < len(lines) and not FENCE.match(lines[end]):
                end += 1
            shows_command = any(l.startswith("$ ") for l in lines[i + 1:end])
            if shows_command and not (out and STATIC.match(out[-1])):
                raise MarkerError(f"{name}:{i + 1}: a block shows `$ ` commands but has no "
                                  "readme-run marker (or `<!-- readme-static: WHY -->` above it)")
            out.extend(lines[i:end + 1])
            i = end + 1
            continue
        out.append(line)
        i += 1
    return "\n".join(out), blocks


def RunBlock(block, setup, options, runner, where):
    commands = SplitCommands(block, where)
    for n in options:
        if not 1 <= n <= len(commands):
            raise MarkerError(f"{where}: option for command {n}, the block has {len(commands)}")
    if setup:
        _, rc = runner.Run(setup, where + " (setup)")
        if rc != 0:
            raise MarkerError(f"{where}: setup exited {rc}")
    out = []
    for n, (shown, command) in enumerate(commands, 1):
        output, rc = runner.Run(command, where)
        for kind, arg in options.get(n, []):
            if kind == "drop":
                output = [l for l in output if not re.search(arg, l)]
        for kind, arg in options.get(n, []):
            if kind == "lines":
                output = KeepLines(output, arg, f"{where} command {n}")
        out.extend(shown)
        out.extend(output)
        if rc != 0:
            out.append(f"(exit {rc})")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epsim", required=True, help="the epsim binary (its folder is `build`)")
    parser.add_argument("--shared", required=True, help="the shared data folder (../shared)")
    parser.add_argument("--readme", required=True, help="README.md to read")
    parser.add_argument("--output", required=True, help="where to write the regenerated README")
    args = parser.parse_args()
    epsim, shared = os.path.abspath(args.epsim), os.path.abspath(args.shared)
    if not os.path.isdir(os.path.join(shared, "traces")):
        print(f"readme: no shared data folder at {shared} (its traces/ is what the tour "
              "imports): README.md cannot be regenerated or checked here", file=sys.stderr)
        return 77
    if not os.access(epsim, os.X_OK):
        print(f"readme: {epsim}: not an executable epsim binary", file=sys.stderr)
        return 1
    source = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(args.readme, encoding="utf-8") as f:
        text = f.read()
    runner = Runner(epsim, shared, source)
    try:
        new_text, blocks = Regenerate(text, runner, os.path.basename(args.readme))
    except MarkerError as e:
        print(f"readme: {e}", file=sys.stderr)
        return 1
    finally:
        runner.Close()
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(new_text)
    print(f"readme: {blocks} blocks regenerated", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
