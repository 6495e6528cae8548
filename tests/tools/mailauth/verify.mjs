// Verify every DKIM signature of the message on stdin with mailauth, fetching keys from
// the DNS server given as argv[2] ("127.0.0.1:PORT"). Prints one JSON line:
// {"results": [{"domain", "selector", "algo", "result"}]}.
import { Resolver } from "node:dns/promises";
import { dkimVerify } from "mailauth/lib/dkim/verify.js";

const resolver = new Resolver({ timeout: 2000, tries: 2 });
resolver.setServers([process.argv[2]]);

async function resolve(name, rrtype) {
  if (rrtype === "TXT") return resolver.resolveTxt(name);
  return resolver.resolve(name, rrtype);
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const result = await dkimVerify(Buffer.concat(chunks), { resolver: resolve });
const results = result.results.map((r) => ({
  domain: r.signingDomain,
  selector: r.selector,
  algo: r.algo,
  result: r.status.result,
  comment: r.status.comment || "",
}));
process.stdout.write(JSON.stringify({ results }) + "\n");
