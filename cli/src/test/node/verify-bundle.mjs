// Independent verifier for sigstore bundle v0.3 message signatures, used by the cli ITs as an
// oracle: npm @sigstore/bundle parses and validates the bundle, @sigstore/verify checks the
// certificate chain against the given CA (as the trusted root's certificate authority) and the
// signature over the signed manifest's bytes.
//
// Offline, key-based bundles carry no transparency-log entry and no RFC 3161 timestamp. With
// thresholds 0, @sigstore/verify's Verifier would then have no verification time at all and never
// check the certificate chain (verifyCertificate iterates over the timestamps), so this oracle
// supplies the current time as the one verification time — what a verifier without a TSA does.
// Usage: node verify-bundle.mjs BUNDLE.json SIGNED-MANIFEST CA.pem
// Exit 0 and a JSON line on success; exit 1 and the reason on stderr otherwise.
import { readFileSync } from 'node:fs';
import { createHash, X509Certificate } from 'node:crypto';
import { bundleFromJSON, isBundleWithMessageSignature, assertBundleLatest } from '@sigstore/bundle';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';

function fail(msg) {
  process.stderr.write(`sigstore oracle: ${msg}\n`);
  process.exit(1);
}

const [bundleFile, manifestFile, caFile] = process.argv.slice(2);
if (!caFile) fail('usage: verify-bundle.mjs BUNDLE.json SIGNED-MANIFEST CA.pem');
const json = JSON.parse(readFileSync(bundleFile, 'utf8'));
const manifest = readFileSync(manifestFile);
const ca = new X509Certificate(readFileSync(caFile));

let bundle;
try {
  bundle = bundleFromJSON(json);
  assertBundleLatest(bundle);
} catch (e) {
  fail(`invalid bundle: ${e.message} ${JSON.stringify(e.fields ?? [])}`);
}
if (bundle.mediaType !== 'application/vnd.dev.sigstore.bundle.v0.3+json') fail(`media type ${bundle.mediaType}`);
if (!isBundleWithMessageSignature(bundle)) fail('not a message-signature bundle');

class OfflineVerifier extends Verifier {
  verifyTimestamps(entity) {
    super.verifyTimestamps(entity); // still checks any timestamps present
    return [new Date()];
  }
}

const trust = toTrustMaterial({
  certificateAuthorities: [{ certChain: { certificates: [{ rawBytes: ca.raw }] } }],
  timestampAuthorities: [],
  tlogs: [],
  ctlogs: [],
}, {});
const entity = toSignedEntity(bundle, manifest);
let signer;
try {
  signer = new OfflineVerifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(entity);
} catch (e) {
  fail(`@sigstore/verify rejects the bundle: ${e.code ?? ''} ${e.message}${e.cause ? ' (' + e.cause.message + ')' : ''}`);
}
// the verifier checks the signature over the artifact; the claimed digest must be that artifact's too
const sha = createHash('sha256').update(manifest).digest();
if (!entity.signature.compareDigest(sha)) fail('messageDigest is not the SHA-256 of the manifest');

process.stdout.write(JSON.stringify({ verified: true, digest: 'sha256:' + sha.toString('hex'), key: signer.key.asymmetricKeyType }) + '\n');
