package dev.cairn.pipeline;

import dev.cairn.signing.CmsSigner;
import dev.cairn.signing.DeferredSignatures;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.signing.SigningException;
import java.security.GeneralSecurityException;
import java.security.Signature;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code cairn sign request}: the signing station's side of a split build. It needs the request
 * and one key, nothing of the image; it signs each entry of one role's exactly as the build would
 * have (same bytes, same algorithm), checks each signature against the request's certificate, and
 * answers a {@link SignatureSet}.
 */
public final class SigningStation {
    private SigningStation() {
    }

    /**
     * The entries {@code role} signs, checked before anything is signed: the role has entries, and
     * {@code certificateSha256} (the station key's certificate; null: not checked yet) is the one
     * every entry expects.
     */
    public static List<SigningRequest.Entry> plan(SigningRequest request, String role, String certificateSha256) throws PipelineException {
        List<SigningRequest.Entry> mine = request.forRole(role);
        if (mine.isEmpty()) {
            throw new PipelineException(PipelineException.Kind.BAD_INPUT, "the signing request has no signatures for role '" + role
                    + "' (it asks for: " + String.join(", ", request.roles()) + ")");
        }
        if (certificateSha256 != null) {
            for (SigningRequest.Entry e : mine) {
                if (!e.certificateSha256().equals(certificateSha256)) {
                    throw new PipelineException(PipelineException.Kind.SIGNING, e.id() + " (" + e.description() + ", " + e.artifact()
                            + "): the request expects the key of certificate sha256:" + e.certificateSha256() + " ("
                            + e.certificate().getSubjectX500Principal().getName() + "), this key's certificate is sha256:"
                            + certificateSha256);
                }
            }
        }
        return mine;
    }

    /**
     * Signs {@code role}'s entries of {@code request} (whose file bytes hash to {@code requestSha256})
     * with {@code km}.
     */
    public static SignatureSet sign(SigningRequest request, String requestSha256, String role, KeyMaterial km) throws java.io.IOException {
        List<SigningRequest.Entry> mine = plan(request, role, CmsSigner.fingerprint(km.certificate()));
        List<SignatureSet.Signed> out = new ArrayList<>();
        for (SigningRequest.Entry e : mine) {
            byte[] data = e.data();
            byte[] sig;
            try {
                Signature s = km.provider() == null ? Signature.getInstance(e.algorithm()) : Signature.getInstance(e.algorithm(), km.provider());
                s.initSign(km.key());
                s.update(data);
                sig = s.sign();
            } catch (GeneralSecurityException x) {
                throw new SigningException(e.id() + ": cannot sign with " + km.description() + ": " + x.getMessage(), x);
            }
            if (!DeferredSignatures.verify(e.certificate().getPublicKey(), e.algorithm(), data, sig)) {
                throw new SigningException(e.id() + ": the signature by " + km.description() + " does not verify with the certificate "
                        + e.certificate().getSubjectX500Principal().getName() + " (key and certificate do not belong together)");
            }
            out.add(new SignatureSet.Signed(e.id(), e.certificateSha256(), e.algorithm(), e.dataSha256(), sig));
        }
        return new SignatureSet(requestSha256, role, out);
    }
}
