package dev.cairn.signing.ipe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.io.FormatException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The IPE grammar as security/ipe/policy_parser.c applies it. */
class IpePolicyTest {
    static final String H = "cd2c5bae7c6c579edaae4353049d58eb5f2e8be0244bf05345bc8e5ed257baff";

    static IpePolicy parse(String s) throws FormatException {
        return IpePolicy.parse(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void acceptsWhatTheKernelAccepts() throws FormatException {
        IpePolicy p = parse("# leading comment\n\npolicy_name=Allow_All policy_version=0.0.0   \r\n"
                + "DEFAULT action=ALLOW # trailing comment\n"
                + "DEFAULT\top=EXECUTE   action=DENY\n"
                + "op=EXECUTE dmverity_roothash=sha256:" + H.toUpperCase() + " action=ALLOW\n"
                + "op=KMODULE boot_verified=TRUE dmverity_signature=FALSE action=ALLOW\n"
                + "op=EXECUTE fsverity_digest=sha256:" + H + " fsverity_signature=TRUE action=DENY\n");
        assertThat(p.name()).isEqualTo("Allow_All");
        assertThat(p.globalDefault()).isEqualTo(IpePolicy.Action.ALLOW);
        assertThat(p.defaults()).isEqualTo(Map.of(IpePolicy.Op.EXECUTE, IpePolicy.Action.DENY));
        assertThat(p.rules()).hasSize(3);
        assertThat(parse(p.render()).render()).isEqualTo(p.render());
        assertThat(parse("policy_name=v policy_version=+1.02.65535\nDEFAULT action=DENY\n").version())
                .isEqualTo(new IpePolicy.Version(1, 2, 65535));
        StringBuilder everyOp = new StringBuilder("policy_name=x policy_version=1.0.0\n");
        for (IpePolicy.Op op : IpePolicy.Op.values()) {
            everyOp.append("DEFAULT op=").append(op).append(" action=ALLOW\n");
        }
        assertThat(parse(everyOp.toString()).globalDefault()).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",                                                             // empty
        "# only a comment\n",                                           // no header
        "policy_version=1.0.0 policy_name=x\nDEFAULT action=ALLOW",     // header order
        "policy_name=x\nDEFAULT action=ALLOW",                          // missing version
        "policy_name=x policy_version=1.0.0 extra=1\nDEFAULT action=ALLOW",
        "policy_name=x policy_version=1.0\nDEFAULT action=ALLOW",       // two components
        "policy_name=x policy_version=1.0.0.0\nDEFAULT action=ALLOW",   // four components
        "policy_name=x policy_version=1.65536.0\nDEFAULT action=ALLOW", // u16 overflow
        "policy_name=x policy_version=1.-1.0\nDEFAULT action=ALLOW",
        "policy_name=x policy_version=1.a.0\nDEFAULT action=ALLOW",
        "policy_name=x policy_version=1..0\nDEFAULT action=ALLOW",
        "policy_name= policy_version=1.0.0\nDEFAULT action=ALLOW",     // empty name
        "policy_name=x policy_version=1.0.0\n",                         // no defaults
        "policy_name=x policy_version=1.0.0\nDEFAULT op=EXECUTE action=DENY", // other ops without default
        "policy_name=x policy_version=1.0.0\nDEFAULT action=ALLOW\nDEFAULT action=DENY",   // double default
        "policy_name=x policy_version=1.0.0\nDEFAULT action=ALLOW\nDEFAULT op=EXECUTE action=DENY\nDEFAULT op=EXECUTE action=ALLOW",
        "policy_name=x policy_version=1.0.0\nDEFAULT action=ALLOW\nDEFAULT op=EXECUTE boot_verified=TRUE action=DENY",
        "policy_name=x policy_version=1.0.0\nDEFAULT action=ALLOW\nop=EXECUTE",             // no action
        "policy_name=x policy_version=1.0.0\nDEFAULT action=ALLOW\naction=ALLOW",           // no op
        "policy_name=x policy_version=1.0.0\nDEFAULT action=ALLOW\nboot_verified=TRUE op=EXECUTE action=ALLOW",
        "policy_name=x policy_version=1.0.0\nDEFAULT action=ALLOW\nop=EXECUTE action=ALLOW boot_verified=TRUE",
        "policy_name=x policy_version=1.0.0\nDEFAULT action=ALLOW\nop=execute action=ALLOW",   // case
        "policy_name=x policy_version=1.0.0\nDEFAULT action=ALLOW\nop=EXECUTE action=allow",
        "policy_name=x policy_version=1.0.0\nDEFAULT action=ALLOW\nop=SCRIPT action=ALLOW",
        "policy_name=x policy_version=1.0.0\nDEFAULT action=ALLOW\nop=EXECUTE unknown_prop=1 action=ALLOW",
        "policy_name=x policy_version=1.0.0\nDEFAULT action=ALLOW\nop=EXECUTE boot_verified=true action=ALLOW",
        "policy_name=x policy_version=1.0.0\nDEFAULT action=ALLOW\nop=EXECUTE dmverity_roothash=" + H + " action=ALLOW",
        "policy_name=x policy_version=1.0.0\nDEFAULT action=ALLOW\nop=EXECUTE dmverity_roothash=sha256:abc action=ALLOW",
        "policy_name=x policy_version=1.0.0\nDEFAULT action=ALLOW\nop=EXECUTE dmverity_roothash=sha256:zz action=ALLOW",
        "policy_name=x policy_version=1.0.0\nDEFAULT action=ALLOW\nop=EXECUTE dmverity_roothash=sha256:abcd action=ALLOW",
        "policy_name=x policy_version=1.0.0\nDEFAULT action=ALLOW\nop=EXECUTE DEFAULT action=ALLOW",
        "policy_name=x policy_version=1.0.0\nDEFAULT action=ALLOW\nop=EXECUTE boot_verified=TRUE action=ALLOW\nop=EXECUTE boot_verified=TRUE action=ALLOW",
    })
    void rejectsWhatTheKernelRejects(String text) {
        assertThatThrownBy(() -> parse(text)).isInstanceOf(FormatException.class);
    }

    @Test
    void errorsNameTheLine() {
        assertThatThrownBy(() -> parse("policy_name=x policy_version=1.0.0\n# c\nDEFAULT action=ALLOW\nop=EXECUTE bogus=1 action=ALLOW\n"))
                .hasMessageContaining("line 4").hasMessageContaining("unknown property 'bogus'");
    }

    @Test
    void builtPoliciesValidate() {
        assertThatThrownBy(() -> new IpePolicy("x", new IpePolicy.Version(1, 0, 0), Map.of(), null, List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("default");
        assertThatThrownBy(() -> new IpePolicy("a b", new IpePolicy.Version(1, 0, 0), Map.of(), IpePolicy.Action.ALLOW, List.of()))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
