package uk.gov.businessindex;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.apache.spark.sql.api.java.UDF2;

/**
 * DuckDB's damerau_levenshtein as a Spark SQL function (bx_damerau_levenshtein): the unrestricted
 * Damerau-Levenshtein distance by the Lowrance-Wagner algorithm, over Unicode code points as DuckDB
 * counts them ('ŁODZ' is one edit from 'LODZ'), a BIGINT; NULL with a NULL. Splink's Scala UDF
 * gives the same distances on these keys but took most of the name comparison's time (7 of 9 s
 * over 513,367 pairs at 100,000 properties): the model asks it of most pairs with a company.
 */
public final class DuckDBDamerauLevenshtein implements UDF2<String, String, Long> {
    private static final long serialVersionUID = 1L;

    @Override
    public Long call(String source, String target) {
        if (source == null || target == null) {
            return null;
        }
        return distance(source.codePoints().toArray(), target.codePoints().toArray());
    }

    static long distance(int[] s, int[] t) {
        int ls = s.length;
        int lt = t.length;
        if (ls == 0) {
            return lt;
        }
        if (lt == 0) {
            return ls;
        }
        long inf = (long) ls + lt + 1;
        // d[i + 1][j + 1]: the distance from s's first i bytes to t's first j (row and column 0 are inf)
        long[][] d = new long[ls + 2][lt + 2];
        for (long[] row : d) {
            Arrays.fill(row, inf);
        }
        for (int i = 0; i <= ls; i++) {
            d[i + 1][1] = i;
        }
        for (int j = 1; j <= lt; j++) {
            d[1][j + 1] = j;
        }
        // the last position (1-based, 0 for none) in s of each character seen so far: ASCII in an
        // array, the rest (rare in these keys) in a map
        int[] lastInSource = new int[128];
        Map<Integer, Integer> lastBeyondAscii = new HashMap<>();
        for (int i = 0; i < ls; i++) {
            int lastMatchInTarget = 0;
            for (int j = 0; j < lt; j++) {
                int i1 = t[j] < 128 ? lastInSource[t[j]] : lastBeyondAscii.getOrDefault(t[j], 0);
                int j1 = lastMatchInTarget;
                long cost;
                if (s[i] == t[j]) {
                    cost = 0;
                    lastMatchInTarget = j + 1;
                } else {
                    cost = 1;
                }
                long best = d[i + 1][j + 1] + cost;
                best = Math.min(best, d[i + 2][j + 1] + 1);
                best = Math.min(best, d[i + 1][j + 2] + 1);
                best = Math.min(best, d[i1][j1] + (i - i1) + 1 + (j - j1));
                d[i + 2][j + 2] = best;
            }
            if (s[i] < 128) {
                lastInSource[s[i]] = i + 1;
            } else {
                lastBeyondAscii.put(s[i], i + 1);
            }
        }
        return d[ls + 1][lt + 1];
    }
}
