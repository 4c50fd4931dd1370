package io.sluice.bench.routing;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/** TTFT over time, one line per policy (mean TTFT of the requests whose first token came in each second), drawn with Java2D headless. */
final class TtftPlot {
    private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
            new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b), new Color(0x17becf)};
    private static final int W = 960;
    private static final int H = 540;
    private static final int LEFT = 80;
    private static final int RIGHT = 200;
    private static final int TOP = 50;
    private static final int BOTTOM = 60;

    private TtftPlot() {
    }

    /**
     * @param measuredSeconds the measured phase: first tokens after it (requests sent just before its end)
     *                        are left out, since only the slow ones among them land there
     */
    static void write(Path png, String title, Map<String, List<ClosedLoop.Sample>> series, double measuredSeconds)
            throws IOException {
        int seconds = 1;
        double maxMs = 1;
        Map<String, double[]> lines = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, List<ClosedLoop.Sample>> e : series.entrySet()) {
            int n = 1 + (int) e.getValue().stream().mapToDouble(ClosedLoop.Sample::atMillis).max().orElse(0) / 1000;
            n = Math.min(n, Math.max(1, (int) measuredSeconds));
            double[] sum = new double[n];
            int[] count = new int[n];
            for (ClosedLoop.Sample s : e.getValue()) {
                int bucket = (int) (s.atMillis() / 1000);
                if (bucket >= n) {
                    continue;
                }
                sum[bucket] += s.ttftMillis();
                count[bucket]++;
            }
            double[] mean = new double[n];
            for (int i = 0; i < n; i++) {
                mean[i] = count[i] == 0 ? Double.NaN : sum[i] / count[i];
                if (count[i] > 0) {
                    maxMs = Math.max(maxMs, mean[i]);
                }
            }
            seconds = Math.max(seconds, n);
            lines.put(e.getKey(), mean);
        }
        double yMax = niceCeiling(maxMs * 1.1);
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, W, H);
        int pw = W - LEFT - RIGHT;
        int ph = H - TOP - BOTTOM;
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        for (int i = 0; i <= 5; i++) { // horizontal grid and y labels
            int y = TOP + ph - ph * i / 5;
            g.setColor(new Color(0xe0e0e0));
            g.drawLine(LEFT, y, LEFT + pw, y);
            g.setColor(Color.DARK_GRAY);
            String label = String.format(Locale.ROOT, "%.0f", yMax * i / 5);
            g.drawString(label, LEFT - 8 - g.getFontMetrics().stringWidth(label), y + 4);
        }
        int step = Math.max(1, seconds / 10);
        for (int s = 0; s <= seconds; s += step) {
            int x = LEFT + pw * s / seconds;
            g.drawLine(x, TOP + ph, x, TOP + ph + 4);
            String label = String.valueOf(s);
            g.drawString(label, x - g.getFontMetrics().stringWidth(label) / 2, TOP + ph + 18);
        }
        g.setColor(Color.BLACK);
        g.drawRect(LEFT, TOP, pw, ph);
        g.drawString("seconds into the measured phase", LEFT + pw / 2 - 90, H - 20);
        Graphics2D rotated = (Graphics2D) g.create();
        rotated.rotate(-Math.PI / 2);
        rotated.drawString("TTFT, ms (client side)", -(TOP + ph / 2 + 60), 22);
        rotated.dispose();
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString(title, LEFT, 30);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        int k = 0;
        for (Map.Entry<String, double[]> e : lines.entrySet()) {
            Color c = COLORS[k % COLORS.length];
            g.setColor(c);
            g.setStroke(new BasicStroke(2f));
            double[] m = e.getValue();
            int px = -1;
            int py = -1;
            for (int i = 0; i < m.length; i++) {
                if (Double.isNaN(m[i])) {
                    px = -1;
                    continue;
                }
                int x = LEFT + (int) (pw * (i + 0.5) / seconds);
                int y = TOP + ph - (int) (ph * Math.min(m[i], yMax) / yMax);
                if (px >= 0) {
                    g.drawLine(px, py, x, y);
                }
                g.fillOval(x - 3, y - 3, 6, 6);
                px = x;
                py = y;
            }
            int ly = TOP + 20 + 22 * k;
            g.drawLine(LEFT + pw + 15, ly - 4, LEFT + pw + 40, ly - 4);
            g.setColor(Color.BLACK);
            g.drawString(e.getKey(), LEFT + pw + 48, ly);
            k++;
        }
        g.dispose();
        ImageIO.write(img, "png", png.toFile());
    }

    private static double niceCeiling(double v) {
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * p >= v) {
                return m * p;
            }
        }
        return 10 * p;
    }
}
