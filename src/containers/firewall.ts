// Solum's own nftables table: the wall around its container networks. Docker runs here with
// --iptables=false and still gives containers on internal networks a default route through the host,
// which forwards and listens on all addresses; this table is what keeps containers in their network.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * The system's nft, by absolute path: a PATH lookup can find something else first (npm puts a
 * package's `nft` in node_modules/.bin, which npm scripts and test runners put first on PATH).
 */
export const systemTool = (name: string): string => ['/usr/sbin', '/sbin', '/usr/bin', '/bin'].map((d) => `${d}/${name}`).find((p) => existsSync(p)) ?? name;

export interface FirewallRules {
  /** The table's name (`solum-<installation>`, or a worker's own), one per Solum process on a host. */
  readonly table: string;
  /** Every bridge of this process's networks is named with this prefix (see bridgeName). */
  readonly prefix: string;
  /** The egress proxy's port on the host; undefined: no container may reach the host at all. */
  readonly proxyPort: number | undefined;
  /** Whether app targets' networks (not only builds') may reach the egress proxy. */
  readonly appEgress: boolean;
}

/** What a network is for; the letter in its bridge's name, which the rules match. */
export type NetworkKind = 'build' | 'target' | 'service';
const LETTER: Record<NetworkKind, string> = { build: 'b', target: 't', service: 'v' };

/**
 * A bridge name (at most 15 characters, Linux's limit): prefix (7) + kind letter + a 6-character
 * ID. The rules match on these names, so they cover IPv4 and IPv6 alike and need no address lists.
 */
export const bridgeName = (prefix: string, kind: NetworkKind, id: string): string => `${prefix}${LETTER[kind]}${id}`;

/** Whether an interface name is one of any Solum process's bridges (see bridgeName). Pure. */
export const isSolumBridge = (name: string): boolean => /^[sw][0-9a-f]{6}[btv][0-9a-f]{6}$/.test(name);

/** The table as an nft script (pure): the text Solum loads, tests check and the docs quote. */
export function firewallScript(r: FirewallRules): string {
  const mine = `"${r.prefix}*"`;
  const egressFrom = [`"${r.prefix}${LETTER.build}*"`, ...(r.appEgress ? [`"${r.prefix}${LETTER.target}*"`] : [])];
  return [
    `table inet ${r.table} {`,
    '  chain forward {',
    '    type filter hook forward priority filter - 10; policy accept;',
    // With br_netfilter loaded, traffic between two containers of one bridge passes this hook too:
    // it stays in its network (its destination is routed through the interface it came in on).
    `    iifname ${mine} fib daddr . iif oif exists accept comment "within one network"`,
    `    iifname ${mine} drop comment "nothing routed out of a Solum network"`,
    `    oifname ${mine} drop comment "nothing routed into a Solum network"`,
    '  }',
    '  chain input {',
    '    type filter hook input priority filter - 10; policy accept;',
    `    iifname ${mine} ct state established,related accept comment "answers to the router and health checks"`,
    ...(r.proxyPort === undefined ? [] : egressFrom.map((f) => `    iifname ${f} tcp dport ${r.proxyPort} accept comment "the egress proxy"`)),
    `    iifname ${mine} drop comment "nothing else on the host"`,
    '  }',
    '}',
  ].join('\n');
}

export interface Firewall {
  readonly rules: FirewallRules;
  /** Creates (or replaces) the table in one nft transaction. */
  install(): Promise<void>;
  /** Removes the table; a missing one is not an error. */
  remove(): Promise<void>;
  /** Whether the table is there with its chains (undefined), or why not. */
  problem(): Promise<string | undefined>;
}

function nft(args: readonly string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(systemTool('nft'), [...args], { timeout: 10_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 127) : 0;
      resolve({ code, stdout, stderr: stderr || (err ? err.message : '') });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

export function createFirewall(rules: FirewallRules): Firewall {
  return {
    rules,
    async install() {
      // add + delete + define in one transaction: an old table of the same name is replaced atomically.
      const script = `add table inet ${rules.table}\ndelete table inet ${rules.table}\n${firewallScript(rules)}\n`;
      const r = await nft(['-f', '-'], script);
      if (r.code !== 0) throw new Error(`could not create the firewall table ${rules.table} with nft: ${r.stderr.trim().slice(0, 500)}`);
    },
    async remove() {
      const r = await nft(['delete', 'table', 'inet', rules.table]);
      if (r.code !== 0 && !/No such file or directory/.test(r.stderr)) throw new Error(`could not remove the firewall table ${rules.table}: ${r.stderr.trim().slice(0, 500)}`);
    },
    async problem() {
      const r = await nft(['list', 'table', 'inet', rules.table]);
      if (r.code !== 0) return `the firewall table inet ${rules.table} is missing`;
      // A table emptied behind Solum's back is as good as none.
      if (!/hook forward/.test(r.stdout) || !/hook input/.test(r.stdout) || !r.stdout.includes(`iifname "${rules.prefix}*" drop`)) return `the firewall table inet ${rules.table} lacks its rules`;
      return undefined;
    },
  };
}
