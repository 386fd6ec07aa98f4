// The hook script written into each app repo. A push that does not touch the app's deploy branch
// needs nothing from the server, so the script stores it without starting Node (its messages
// match hooks/push-plan.ts, which a test checks); any other push goes to the hook program, and so
// does every push with push options (`-o solum.preview`) or to an app with previews (decision 0020),
// whose other branches may build.
import { fileURLToPath } from 'node:url';

const shellQuote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

export function hookScript(nodePath: string = process.execPath): string {
  const program = fileURLToPath(new URL('./hook-program.js', import.meta.url));
  return `#!/bin/sh
# Installed by Solum: hands the push to the Solum server and relays the build.
if [ -z "\${SOLUM_PUSH_TOKEN:-}" ] || [ -z "\${SOLUM_DEPLOY_REF:-}" ]; then
  echo '!     this repository accepts pushes only through the Solum server' >&2
  exit 1
fi
input=$(cat)
if [ -n "\${SOLUM_PREVIEWS:-}" ] || [ "\${GIT_PUSH_OPTION_COUNT:-0}" != 0 ]; then
  printf '%s\\n' "$input" | ${shellQuote(nodePath)} ${shellQuote(program)} pre-receive
  exit $?
fi
case "
$input
" in
  *" $SOLUM_DEPLOY_REF
"*)
    printf '%s\\n' "$input" | ${shellQuote(nodePath)} ${shellQuote(program)} pre-receive
    exit $?
    ;;
esac
printf '%s\\n' "$input" | while read -r old new ref; do
  [ -n "$ref" ] || continue
  case "$new" in
    *[!0]*)
      case "$ref" in
        refs/tags/*) echo "-----> $ref: stored (tags never build)" ;;
        *) echo "-----> $ref: stored without a build (only \${SOLUM_DEPLOY_REF#refs/heads/} builds)" ;;
      esac
      ;;
    *) echo "-----> $ref: deleted (deletions never build)" ;;
  esac
done
exit 0
`;
}
