// The independent verifier's status check (not our code): @digitalbazaar/vc-bitstring-status-list's checkStatus,
// which fetches the status list credential, verifies it (@digitalbazaar/vc with a DataIntegrityProof /
// eddsa-rdfc-2022 suite), checks its issuer against the credential's and reads the credential's bit.
//
// stdin: {"credential": {...}, "documents": {"<url>": <document>, ...}}: every URL the verifier may load
// (contexts, the status list credential as the hub served it, the DID document and its key). Nothing is fetched.
// stdout: {"verified": bool, "status": bool | null, "error": string | null}
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';

let input = '';
for await (const chunk of process.stdin) {
  input += chunk;
}
const {credential, documents} = JSON.parse(input);

const documentLoader = async url => {
  const base = url.split('#')[0];
  const document = documents[url] ?? documents[base];
  if(document === undefined) {
    throw new Error(`not allowed to load ${url}`);
  }
  return {contextUrl: null, documentUrl: url, document: structuredClone(document)};
};

const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});
const result = await checkStatus({credential, documentLoader, suite});
let error = null;
if(result.error) {
  error = result.error.message;
  let cause = result.error.cause;
  while(cause) {
    error += ` <- ${cause.message ?? cause}`;
    cause = cause.cause;
  }
}
const status = result.results && result.results[0] ? result.results[0].status : null;
process.stdout.write(JSON.stringify({verified: result.verified, status, error}));
