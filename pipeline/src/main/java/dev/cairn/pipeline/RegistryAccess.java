package dev.cairn.pipeline;

import dev.cairn.oci.RegistryClient;
import java.io.IOException;

/**
 * How the pipeline reaches a registry ({@code HOST[:PORT]}): the face decides credentials, trust
 * and transport (the command line from its flags and the docker config, the Maven plugin from
 * {@code settings.xml}). The pipeline closes each client it opened when the build ends.
 */
@FunctionalInterface
public interface RegistryAccess {
    /** Anonymous access (plain HTTP for loopback registries only). */
    RegistryAccess ANONYMOUS = registry -> new RegistryClient(RegistryClient.Options.defaults(host -> java.util.Optional.empty()));

    RegistryClient open(String registry) throws IOException;
}
