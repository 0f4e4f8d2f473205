/**
 * Shell texts with what real bash 5.2 prints for them (stdout, exit status). Pure shell only,
 * so the same table is checked against the real bash when it is at hand.
 */
export interface Case {
  readonly name: string;
  readonly script: string;
  readonly out: string;
  readonly code?: number;
  readonly args?: string[];
}

export const CASES: readonly Case[] = [
  { name: "single and double quotes", script: `x=world; echo 'hello $x' "hello $x" hello\\ $x`, out: "hello $x hello world hello world\n" },
  { name: "backslash in double quotes", script: `echo "a\\$b \\"q\\" \\\\ \\n"`, out: 'a$b "q" \\ \\n\n' },
  { name: "braces and defaults", script: `u=; echo "\${x:-def}" "\${u:-empty}" "\${u-set}" "\${#HOME}" \${x:=assigned} $x`, out: "def empty  5 assigned assigned\n" },
  { name: "alternate value", script: `a=1; echo "[\${a:+yes}]" "[\${b:+yes}]"`, out: "[yes] []\n" },
  { name: "prefix and suffix removal", script: `p=/usr/local/sbin/lvs_nat.sh; echo \${p##*/} \${p%.sh} \${p#/usr/} \${p%%/*}x`, out: "lvs_nat.sh /usr/local/sbin/lvs_nat local/sbin/lvs_nat.sh x\n" },
  { name: "field splitting of unquoted expansions", script: `v="a   b c"; for w in $v; do echo "<$w>"; done; for w in "$v"; do echo "<$w>"; done`, out: "<a>\n<b>\n<c>\n<a   b c>\n" },
  { name: "empty words vanish unless quoted", script: `e=; set -- $e "" $e; echo $#`, out: "1\n" },
  { name: "positional parameters", script: `echo $# $1 $2 "$*"; for a in "$@"; do echo "[$a]"; done; shift; echo $1`, out: "3 a b c a b c d\n[a]\n[b c]\n[d]\nb c\n", args: ["a", "b c", "d"] },
  { name: "command substitution", script: `x=$(echo hi; echo there); echo "$x"; echo \`echo back\`; echo "$(echo "nested $(echo deep)")"`, out: "hi\nthere\nback\nnested deep\n" },
  { name: "arithmetic", script: `i=3; echo $((i * 2 + 1)) $(( (1+2) % 2 )) $((i > 2 && 1)) $((0x10)) $((-7 / 2))`, out: "7 1 1 16 -3\n" },
  { name: "and-or chains and $?", script: `true && echo a || echo b; false && echo c || echo d; false; echo $?; ! false; echo $?`, out: "a\nd\n1\n0\n" },
  { name: "exit status of a list is the last command's", script: `false; true`, out: "", code: 0 },
  { name: "exit N", script: `echo before; exit 3; echo after`, out: "before\n", code: 3 },
  { name: "if elif else", script: `for n in 1 2 3; do if [ $n -eq 1 ]; then echo one; elif [ "$n" = 2 ]; then echo two; else echo other; fi; done`, out: "one\ntwo\nother\n" },
  { name: "while with a counter", script: `i=0\nwhile [ $i -lt 3 ]\ndo\n  echo "i=$i"\n  i=$((i+1))\ndone`, out: "i=0\ni=1\ni=2\n" },
  { name: "until, break and continue", script: `i=0; until [ $i -ge 10 ]; do i=$((i+1)); [ $i -eq 2 ] && continue; [ $i -eq 4 ] && break; echo $i; done`, out: "1\n3\n" },
  { name: "case with patterns", script: `for w in eth0 lo x.sh other; do case $w in eth*) echo nic;; lo|loopback) echo loop;; *.sh) echo script;; *) echo "?";; esac; done`, out: "nic\nloop\nscript\n?\n" },
  { name: "functions, local and return", script: `f() { local x=in; echo "f $1 $x"; return 4; }\nx=out; f arg; echo $? $x`, out: "f arg in\n4 out\n" },
  { name: "groups and subshells", script: `x=1; (x=2; echo $x); echo $x; { x=3; echo $x; }; echo $x`, out: "2\n1\n3\n3\n" },
  { name: "pipelines", script: `printf 'b\\na\\nc\\n' | grep -v c | wc -l; echo x | { read v; echo "got $v"; }`, out: "2\ngot x\n" },
  { name: "read from a here-document", script: `while read a b; do echo "$b-$a"; done <<EOF\n1 one\n2 two\nEOF`, out: "one-1\ntwo-2\n" },
  { name: "quoted here-document delimiter keeps $", script: `x=1; cat <<'EOF'\n$x\nEOF\ncat <<EOF\n$x\nEOF`, out: "$x\n1\n" },
  { name: "comments only at word start", script: `echo a#b # comment\necho '#' x#`, out: "a#b\n# x#\n" },
  { name: "line continuation", script: `echo one \\\ntwo`, out: "one two\n" },
  { name: "echo -n and -e", script: `echo -n a; echo -e 'b\\tc'; echo 'd\\te'`, out: "ab\tc\nd\\te\n" },
  { name: "printf", script: `printf '%s=%d|%5s|%-3s|%03d|%x\\n' a 42 r l 7 255; printf '%s\\n' x y`, out: "a=42|    r|l  |007|ff\nx\ny\n" },
  { name: "test operators", script: `[ -z "" ] && [ -n x ] && [ a != b ] && [ 2 -gt 1 ] && [ ! -e /nosuch ] && [ -d / ] && echo ok`, out: "ok\n" },
  { name: "set -e stops at the first failure", script: `set -e; echo one; false; echo two`, out: "one\n", code: 1 },
  { name: "set -e spares conditions", script: `set -e; if false; then :; fi; false || true; ! true; echo alive`, out: "alive\n" },
  { name: "assignment status is the substitution's", script: `x=$(false); echo $?`, out: "1\n" },
  { name: "eval and export", script: `export A=1; eval 'echo $A; B=2'; echo $B`, out: "1\n2\n" },
  { name: "seq and for", script: `for i in $(seq 3); do echo -n "$i "; done; echo`, out: "1 2 3 \n" },
];
