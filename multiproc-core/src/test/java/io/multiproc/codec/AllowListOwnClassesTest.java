package io.multiproc.codec;

import org.junit.jupiter.api.Test;

import java.io.Serializable;
import java.lang.classfile.ClassFile;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.MethodTypeDesc;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * In an uber-jar (the CLI's, or a user's shaded application) third-party classes come from the same jar
 * as multiproc: they must not count as multiproc's own, or a data channel would run their
 * {@code readObject} on bytes another process wrote.
 */
class AllowListOwnClassesTest {

    /** Defines classes as if they came from multiproc's own jar or directory. */
    private static final class BesideMultiproc extends ClassLoader {
        BesideMultiproc() {
            super(AllowListOwnClassesTest.class.getClassLoader());
        }

        Class<?> define(String name) {
            byte[] bytes = ClassFile.of().build(ClassDesc.of(name), cb -> cb
                    .withInterfaceSymbols(ClassDesc.of(Serializable.class.getName()))
                    .withMethodBody(ConstantDescs.INIT_NAME, MethodTypeDesc.of(ConstantDescs.CD_void), ClassFile.ACC_PUBLIC,
                            code -> code.aload(0).invokespecial(ConstantDescs.CD_Object, ConstantDescs.INIT_NAME,
                                    MethodTypeDesc.of(ConstantDescs.CD_void)).return_()));
            return defineClass(name, bytes, 0, bytes.length, AllowList.class.getProtectionDomain());
        }
    }

    @Test
    void aThirdPartyClassInMultiprocsJarIsNotMultiprocsOwn() {
        AllowList dataChannel = new AllowList(false, false, List.of(), Set.of());
        Class<?> gadget = new BesideMultiproc().define("org.example.shaded.Gadget");
        assertThat(gadget.getProtectionDomain().getCodeSource()).isEqualTo(AllowList.class.getProtectionDomain().getCodeSource());
        assertThat(dataChannel.allowsSerialized(gadget)).as("JDK serialization of %s", gadget.getName()).isFalse();
        assertThat(dataChannel.allows(gadget)).isFalse();
        assertThat(dataChannel.allowsSerialized(AllowList.class)).as("multiproc's own").isTrue();
    }
}
