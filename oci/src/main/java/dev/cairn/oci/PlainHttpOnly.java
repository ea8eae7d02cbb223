package dev.cairn.oci;

import java.security.KeyManagementException;
import java.security.SecureRandom;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;

/**
 * The TLS context of the plain-HTTP client: it has no TLS, and any attempt to use it (a redirect
 * from http into https) fails with {@link Refused}, which {@link RegistryClient} answers by
 * sending the request again with its TLS client. Creating it loads nothing of JSSE.
 */
final class PlainHttpOnly extends SSLContextSpi {
    static final SSLContext CONTEXT = new SSLContext(new PlainHttpOnly(), null, "none") {
    };

    /** Raised when TLS is asked of the plain-HTTP client. */
    static final class Refused extends SSLException {
        private static final long serialVersionUID = 1L;

        Refused() {
            super("this client speaks plain HTTP only");
        }
    }

    private PlainHttpOnly() {
    }

    /** Whether {@code t} or one of its causes is the plain-HTTP client refusing TLS. */
    static boolean causedBy(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof Refused) {
                return true;
            }
        }
        return false;
    }

    @Override
    protected void engineInit(KeyManager[] km, TrustManager[] tm, SecureRandom sr) throws KeyManagementException {
        // nothing to set up
    }

    @Override
    protected SSLSocketFactory engineGetSocketFactory() {
        throw new IllegalStateException(new Refused());
    }

    @Override
    protected SSLServerSocketFactory engineGetServerSocketFactory() {
        throw new IllegalStateException(new Refused());
    }

    @Override
    protected SSLEngine engineCreateSSLEngine() {
        throw new IllegalStateException(new Refused());
    }

    @Override
    protected SSLEngine engineCreateSSLEngine(String host, int port) {
        throw new IllegalStateException(new Refused());
    }

    @Override
    protected SSLSessionContext engineGetServerSessionContext() {
        throw new IllegalStateException(new Refused());
    }

    @Override
    protected SSLSessionContext engineGetClientSessionContext() {
        throw new IllegalStateException(new Refused());
    }
}
