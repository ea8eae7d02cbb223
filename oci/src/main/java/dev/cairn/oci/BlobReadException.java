package dev.cairn.oci;

import java.io.IOException;

/**
 * Reading the local copy of a blob failed while its upload was under way (the file vanished, is
 * unreadable, the disk failed). It travels through the HTTP client wrapped like a network error;
 * {@link RegistryClient} unwraps it and rethrows {@link #getCause()}, so it is reported as the
 * local I/O problem it is and never retried as a broken connection.
 */
final class BlobReadException extends IOException {
    private static final long serialVersionUID = 1L;

    BlobReadException(IOException cause) {
        super(cause.getMessage(), cause);
    }

    @Override
    public synchronized IOException getCause() {
        return (IOException) super.getCause();
    }
}
