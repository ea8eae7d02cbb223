package dev.cairn.oci;

/** A manifest as read: its descriptor, its exact bytes (never re-encoded) and the parsed record. */
public record ManifestBlob(Descriptor descriptor, byte[] bytes, Manifest manifest) {
    public ManifestBlob {
        bytes = bytes.clone();
    }

    @Override
    public byte[] bytes() {
        return bytes.clone();
    }
}
