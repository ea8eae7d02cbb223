package dev.cairn.cli;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.EvaluationResult;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The module rules of the house style, checked on the compiled main classes of every module on
 * this test's class path (all but the Maven plugin, which checks its own): format modules depend on
 * binary-io and libraries only, never on each other, the pipeline or the command line; the
 * pipeline knows nothing of picocli or the command line; binary-io depends on no other module.
 */
class ArchitectureTest {
    /** Each format module's package, as the house style names them. */
    static final Map<String, String> FORMATS = Map.of(
            "verity", "dev.cairn.verity..",
            "squashfs", "dev.cairn.squashfs..",
            "erofs", "dev.cairn.erofs..",
            "uki-builder", "dev.cairn.uki..",
            "signing", "dev.cairn.signing..",
            "oci", "dev.cairn.oci..",
            "disk", "dev.cairn.disk..");

    static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.cairn");
    }

    @Test
    void everyModuleIsImported() {
        // a rule over no classes holds trivially: make sure each module's classes are really here
        for (String pkg : List.of("dev.cairn.io", "dev.cairn.verity", "dev.cairn.squashfs", "dev.cairn.erofs", "dev.cairn.uki", "dev.cairn.signing",
                "dev.cairn.oci", "dev.cairn.disk", "dev.cairn.pipeline", "dev.cairn.cli")) {
            assertThat(classes.stream().anyMatch(c -> c.getPackageName().equals(pkg))).as(pkg).isTrue();
        }
    }

    @Test
    void thePipelineKnowsNothingOfPicocliOrTheCommandLine() {
        check(noClasses().that().resideInAPackage("dev.cairn.pipeline..")
                .should().dependOnClassesThat().resideInAnyPackage("picocli..", "dev.cairn.cli..", "dev.cairn.maven..", "org.apache.maven..")
                .because("pipeline is the library core; cli and maven-plugin are thin faces over it"));
    }

    @Test
    void formatModulesDependOnBinaryIoAndLibrariesOnly() {
        for (Map.Entry<String, String> e : FORMATS.entrySet()) {
            String[] others = Stream.concat(FORMATS.values().stream().filter(p -> !p.equals(e.getValue())),
                    Stream.of("dev.cairn.pipeline..", "dev.cairn.cli..", "dev.cairn.maven..", "picocli..")).toArray(String[]::new);
            check(noClasses().that().resideInAPackage(e.getValue()).should().dependOnClassesThat().resideInAnyPackage(others)
                    .because("format module " + e.getKey() + " depends only on binary-io and libraries"));
        }
    }

    @Test
    void binaryIoDependsOnNoOtherModule() {
        check(noClasses().that().resideInAPackage("dev.cairn.io..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.cairn.verity..", "dev.cairn.squashfs..", "dev.cairn.erofs..", "dev.cairn.uki..", "dev.cairn.signing..",
                        "dev.cairn.oci..", "dev.cairn.disk..", "dev.cairn.pipeline..", "dev.cairn.cli..", "picocli.."));
    }

    @Test
    void theRulesCatchAViolation() {
        // the cli does depend on picocli: the same rule shape over cli must fail, or the rules above prove nothing
        EvaluationResult r = noClasses().that().resideInAPackage("dev.cairn.cli..").should().dependOnClassesThat()
                .resideInAnyPackage("picocli..").evaluate(classes);
        assertThat(r.hasViolation()).isTrue();
    }

    private static void check(ArchRule rule) {
        EvaluationResult r = rule.evaluate(classes);
        assertThat(r.getFailureReport().getDetails()).as(rule.getDescription()).isEmpty();
    }
}
