package io.multiproc.shared;

import java.math.BigDecimal;
import java.math.BigInteger;

/**
 * CPython's {@code array}/{@code ctypes} typecodes that Java can represent, each mapped onto the storage
 * kind that holds its whole range (docs/decisions/057): the typecode checks the values given to
 * {@link Value#of} and {@link Array#of}, the object returned is a plain {@link SharedInt},
 * {@link SharedLong} or {@link SharedDouble} (array) whose later writes are Java arithmetic.
 *
 * <pre>
 * code  C type              range checked               storage
 * b     signed char         -128..127                   int
 * B     unsigned char       0..255                      int
 * c     char (one byte)     0..255                      int
 * h     short               -32768..32767               int
 * H     unsigned short      0..65535                    int
 * i     int                 -2^31..2^31-1               int
 * I     unsigned int        0..2^32-1                   long
 * l, q  long (LP64)         -2^63..2^63-1               long
 * L, Q  unsigned long       0..2^64-1                   long (two's complement bits; read with Long.toUnsignedString)
 * f     float               finite values in float range, rounded to float   double
 * d     double              any                         double
 * </pre>
 */
enum Typecode {
    b(NumberKind.INT, -128, 127),
    B(NumberKind.INT, 0, 255),
    c(NumberKind.INT, 0, 255),
    h(NumberKind.INT, Short.MIN_VALUE, Short.MAX_VALUE),
    H(NumberKind.INT, 0, 65535),
    i(NumberKind.INT, Integer.MIN_VALUE, Integer.MAX_VALUE),
    I(NumberKind.LONG, 0, 0xFFFF_FFFFL),
    l(NumberKind.LONG, Long.MIN_VALUE, Long.MAX_VALUE),
    q(NumberKind.LONG, Long.MIN_VALUE, Long.MAX_VALUE),
    L(NumberKind.LONG, BigInteger.ZERO, BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE)),
    Q(NumberKind.LONG, BigInteger.ZERO, BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE)),
    f(NumberKind.DOUBLE, 0, 0),
    d(NumberKind.DOUBLE, 0, 0);

    static final String SUPPORTED = "b, B, c, h, H, i (int storage), I, l, q, L, Q (long storage), f, d (double storage)";

    final NumberKind kind;
    private final BigInteger min;
    private final BigInteger max;

    Typecode(NumberKind kind, long min, long max) {
        this(kind, BigInteger.valueOf(min), BigInteger.valueOf(max));
    }

    Typecode(NumberKind kind, BigInteger min, BigInteger max) {
        this.kind = kind;
        this.min = min;
        this.max = max;
    }

    static Typecode of(String typecode) {
        if (typecode != null && typecode.length() == 1) {
            for (Typecode t : values()) {
                if (t.name().equals(typecode)) {
                    return t;
                }
            }
        }
        throw new IllegalArgumentException("typecode='" + typecode + "' is not supported; use one of " + SUPPORTED
                + " (u, w and P have no Java equivalent)");
    }

    /** {@code v} checked against this typecode's range, as the bits to store in an int or long slot. */
    long toBits(Number v, String what) {
        BigInteger exact = integral(v, what);
        if (exact.compareTo(min) < 0 || exact.compareTo(max) > 0) {
            throw new IllegalArgumentException(what + "=" + v + " is out of range for typecode '" + name() + "' ("
                    + min + ".." + max + ")");
        }
        return exact.longValue();
    }

    /** {@code v} as a double, checked (and rounded to float precision) for {@code f}. */
    double toDouble(Number v, String what) {
        double x = v.doubleValue();
        if (this == f) {
            float rounded = (float) x;
            if (Float.isInfinite(rounded) && !Double.isInfinite(x)) {
                throw new IllegalArgumentException(what + "=" + v + " is out of range for typecode 'f' (|value| <= "
                        + Float.MAX_VALUE + ")");
            }
            return rounded;
        }
        return x;
    }

    private BigInteger integral(Number v, String what) {
        if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
            return BigInteger.valueOf(v.longValue());
        }
        if (v instanceof BigInteger big) {
            return big;
        }
        try {
            return new BigDecimal(v.toString()).toBigIntegerExact();
        } catch (ArithmeticException | NumberFormatException notIntegral) {
            throw new IllegalArgumentException(what + "=" + v + " is not an integer; typecode '" + name()
                    + "' holds integers");
        }
    }
}
