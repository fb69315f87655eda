// The independent verifier: Digital Bazaar's VC stack from the npm registry (not written by us) verifies the
// hub's credentials' Data Integrity proof (eddsa-rdfc-2022).
//
//   node tests/interop/verify.mjs CONFIG.json
//
// CONFIG: {"contexts": {url: file}, "dids": {did: DID document}, "didServer": "http://127.0.0.1:PORT" | null,
//          "documents": {url: document} (e.g. a status list credential, for tests without a server),
//          "credentials": [{"name": ..., "credential": {...}}], "now": ISO date-time | null}
// The document loader serves the bundled contexts (the same files the hub signs with) and resolves a
// did:web to a DID document given in CONFIG, or else to <didServer>/<path>/did.json (the live test server;
// only that server is ever asked, also for a status list credential under its URL). A credential with a
// credentialStatus is checked with @digitalbazaar/vc-bitstring-status-list's checkStatus.
// Prints one JSON line per credential: {"name", "verified", "errors", "status"}.
import {readFileSync} from 'node:fs';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {JsonLdDocumentLoader} from 'jsonld-document-loader';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

const loader = new JsonLdDocumentLoader();
for(const [url, file] of Object.entries(config.contexts)) {
  loader.addStatic(url, JSON.parse(readFileSync(file, 'utf8')));
}

const didDocuments = new Map(Object.entries(config.dids || {}));

async function resolveDid(did) {
  if(didDocuments.has(did)) {
    return didDocuments.get(did);
  }
  if(!did.startsWith('did:web:') || !config.didServer) {
    throw new Error(`cannot resolve ${did}`);
  }
  // did:web:<host>:<path...> -> <didServer>/<path...>/did.json (the test server stands in for https://<host>)
  const [, , , ...path] = did.split(':');
  const url = `${config.didServer}/${path.map(decodeURIComponent).join('/')}/did.json`;
  const response = await fetch(url);
  if(!response.ok) {
    throw new Error(`${url}: HTTP ${response.status}`);
  }
  const document = await response.json();
  if(document.id !== did) {
    throw new Error(`${url} is the DID document of ${document.id}, not ${did}`);
  }
  didDocuments.set(did, document);
  return document;
}

loader.setProtocolHandler({
  protocol: 'did',
  handler: {
    async get({url}) {
      const [did, fragment] = url.split('#');
      const document = await resolveDid(did);
      if(fragment === undefined) {
        return document;
      }
      const method = (document.verificationMethod || []).find(item => item.id === url);
      if(!method) {
        throw new Error(`${did} has no verification method ${url}`);
      }
      return {'@context': document['@context'], ...method};
    }
  }
});
// http(s): only documents of the live test server (status list credentials); nothing else is fetched
const fetchFromServer = {
  async get({url}) {
    if(config.documents && url in config.documents) {
      return config.documents[url];
    }
    if(!config.didServer || !url.startsWith(`${config.didServer}/`)) {
      throw new Error(`${url} is not a document of the test server; nothing else is fetched`);
    }
    const response = await fetch(url);
    if(!response.ok) {
      throw new Error(`${url}: HTTP ${response.status}`);
    }
    return response.json();
  }
};
loader.setProtocolHandler({protocol: 'http', handler: fetchFromServer});
loader.setProtocolHandler({protocol: 'https', handler: fetchFromServer});
const documentLoader = loader.build();

const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022CryptoSuite});

for(const {name, credential} of config.credentials) {
  let verified = false;
  let errors = [];
  let status = null;
  try {
    const result = await vc.verifyCredential({
      credential, suite, documentLoader, ...(config.now ? {now: config.now} : {}),
      ...(credential.credentialStatus ? {checkStatus} : {})
    });
    verified = result.verified;
    if(result.statusResult) {
      status = {
        verified: result.statusResult.verified,
        results: (result.statusResult.results || []).map(item => ({
          verified: item.verified, status: item.status, purpose: item.purpose,
          error: item.error ? String(item.error.message || item.error) : undefined
        })),
        error: result.statusResult.error ? String(result.statusResult.error.message) : undefined
      };
    }
    const flat = [result.error, ...(result.results || []).map(item => item.error)].filter(Boolean);
    errors = flat.flatMap(error => error.errors || [error]).map(error => String(error.message || error));
  } catch(error) {
    errors = [String(error.message || error)];
  }
  console.log(JSON.stringify({name, verified, errors, status}));
}
