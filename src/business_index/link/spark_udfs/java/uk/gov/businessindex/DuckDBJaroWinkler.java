package uk.gov.businessindex;

import org.apache.spark.sql.api.java.UDF2;

/**
 * DuckDB's jaro_winkler_similarity, to the last bit, as a Spark SQL function (bx_jaro_winkler).
 *
 * <p>Each character of the second string, in order, matches the first unmatched equal character of
 * the first within max(length) / 2 - 1 of it; half the matched characters out of order (rounded
 * down) are transpositions; jaro = (m / len1 + m / len2 + (m - t) / m) / 3; above 0.7, the common
 * prefix (at most 4 characters) adds 0.1 of the rest for each, in one rounding (a fused
 * multiply-add, as DuckDB's build computes it). Characters are Unicode code points; NULL with a
 * NULL, 0 with an empty string.
 */
public final class DuckDBJaroWinkler implements UDF2<String, String, Double> {
    private static final long serialVersionUID = 1L;

    @Override
    public Double call(String left, String right) {
        if (left == null || right == null) {
            return null;
        }
        return similarity(left.codePoints().toArray(), right.codePoints().toArray());
    }

    static double similarity(int[] a, int[] b) {
        int la = a.length;
        int lb = b.length;
        if (la == 0 || lb == 0) {
            return 0.0;
        }
        int bound = Math.max(Math.max(la, lb) / 2 - 1, 0);
        boolean[] used = new boolean[la];
        int[] matchedInB = new int[lb];
        int m = 0;
        for (int j = 0; j < lb; j++) {
            int hi = Math.min(la - 1, j + bound);
            for (int i = Math.max(0, j - bound); i <= hi; i++) {
                if (!used[i] && a[i] == b[j]) {
                    used[i] = true;
                    matchedInB[m++] = j;
                    break;
                }
            }
        }
        if (m == 0) {
            return 0.0;
        }
        int outOfOrder = 0;
        int k = 0;
        for (int i = 0; i < la; i++) {
            if (used[i]) {
                if (a[i] != b[matchedInB[k]]) {
                    outOfOrder++;
                }
                k++;
            }
        }
        int t = outOfOrder / 2;
        double sim = ((double) m / la + (double) m / lb + (double) (m - t) / m) / 3.0;
        if (sim > 0.7) {
            int prefix = 0;
            int most = Math.min(4, Math.min(la, lb));
            while (prefix < most && a[prefix] == b[prefix]) {
                prefix++;
            }
            sim = Math.fma((double) prefix * 0.1, 1.0 - sim, sim);
        }
        return sim;
    }
}
