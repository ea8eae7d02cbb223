// Independent verifier for Notary Project JWS signatures (signature-envelope-jws.md), used by the
// cli ITs as an oracle: npm `jose` checks the flattened JWS (algorithm, crit, signature), node's
// X509Certificate checks the x5c chain up to the given CA.
// Usage: node verify-notation.mjs ENVELOPE.json SIGNED-MANIFEST CA.pem
// Exit 0 and a JSON line on success; exit 1 and the reason on stderr otherwise.
import { readFileSync } from 'node:fs';
import { createHash, X509Certificate } from 'node:crypto';
import { flattenedVerify, importX509 } from 'jose';

function fail(msg) {
  process.stderr.write(`notation oracle: ${msg}\n`);
  process.exit(1);
}

const [envelopeFile, manifestFile, caFile] = process.argv.slice(2);
if (!caFile) fail('usage: verify-notation.mjs ENVELOPE.json SIGNED-MANIFEST CA.pem');
const jws = JSON.parse(readFileSync(envelopeFile, 'utf8'));
const manifest = readFileSync(manifestFile);
const ca = new X509Certificate(readFileSync(caFile));

// x5c: leaf first; each certificate issued and signed by the next, the last by the CA (or the CA itself)
const x5c = jws.header?.x5c;
if (!Array.isArray(x5c) || x5c.length === 0) fail('no x5c chain in the unprotected header');
const chain = x5c.map((b64) => new X509Certificate(Buffer.from(b64, 'base64')));
const now = new Date();
for (const [i, cert] of chain.entries()) {
  if (new Date(cert.validFrom) > now || new Date(cert.validTo) < now) fail(`x5c[${i}] is not valid now`);
  const issuer = chain[i + 1];
  if (issuer && !(cert.checkIssued(issuer) && cert.verify(issuer.publicKey))) fail(`x5c[${i}] is not signed by x5c[${i + 1}]`);
}
const last = chain[chain.length - 1];
if (last.fingerprint256 !== ca.fingerprint256 && !(last.checkIssued(ca) && last.verify(ca.publicKey))) {
  fail('the x5c chain does not lead to the trusted CA');
}

// the algorithm is fixed by the leaf key (signature-specification.md, "Algorithm Selection")
const leafKey = chain[0].publicKey;
const details = leafKey.asymmetricKeyDetails;
const expected = leafKey.asymmetricKeyType === 'rsa'
  ? { 2048: 'PS256', 3072: 'PS384', 4096: 'PS512' }[details.modulusLength]
  : { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' }[details.namedCurve];
if (!expected) fail(`leaf key ${leafKey.asymmetricKeyType} ${JSON.stringify(details)} has no Notary algorithm`);

let result;
try {
  result = await flattenedVerify(jws, await importX509(chain[0].toString(), expected), {
    algorithms: [expected],
    crit: {
      'io.cncf.notary.signingScheme': true,
      'io.cncf.notary.expiry': true,
      'io.cncf.notary.authenticSigningTime': true,
    },
  });
} catch (e) {
  fail(`jose rejects the JWS: ${e.code ?? ''} ${e.message}`);
}
const h = result.protectedHeader;
if (h.cty !== 'application/vnd.cncf.notary.payload.v1+json') fail(`cty is ${h.cty}`);
if (!h.crit?.includes('io.cncf.notary.signingScheme')) fail('crit does not list io.cncf.notary.signingScheme');
if (h['io.cncf.notary.signingScheme'] !== 'notary.x509') fail(`signing scheme ${h['io.cncf.notary.signingScheme']}`);
if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/.test(h['io.cncf.notary.signingTime'] ?? '')) {
  fail(`signingTime ${h['io.cncf.notary.signingTime']} is not RFC 3339 without fractions`);
}

// the payload must describe exactly the signed manifest
const target = JSON.parse(Buffer.from(result.payload).toString('utf8')).targetArtifact;
const digest = 'sha256:' + createHash('sha256').update(manifest).digest('hex');
const mediaType = JSON.parse(manifest.toString('utf8')).mediaType;
if (target?.digest !== digest) fail(`payload names ${target?.digest}, the manifest is ${digest}`);
if (target.size !== manifest.length) fail(`payload size ${target.size}, the manifest has ${manifest.length} bytes`);
if (target.mediaType !== mediaType) fail(`payload media type ${target.mediaType}, the manifest is ${mediaType}`);

process.stdout.write(JSON.stringify({ verified: true, alg: h.alg, signer: chain[0].subject, digest }) + '\n');
