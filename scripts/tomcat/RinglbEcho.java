import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The echo servlet of ringlb's real-Tomcat checks (scripts/tomcat-pair.sh,
 * scripts/ajp-differential.sh), mapped to /echo/*. Any method: reads the whole request body and
 * answers 200 text/plain with one summary line (method, body length, its SHA-256, the framing
 * headers as received, the path and query), then every request header line in arrival order.
 */
public class RinglbEcho extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IOException(e);
        }
        long length = 0;
        byte[] buf = new byte[65536];
        InputStream in = req.getInputStream();
        for (int n; (n = in.read(buf)) != -1; ) {
            sha.update(buf, 0, n);
            length += n;
        }
        StringBuilder hex = new StringBuilder(64);
        for (byte b : sha.digest()) {
            hex.append(String.format("%02x", b));
        }
        resp.setContentType("text/plain; charset=UTF-8");
        PrintWriter out = resp.getWriter();
        out.print("method=" + req.getMethod() + " length=" + length + " sha256=" + hex
                + " content_length=" + req.getHeader("Content-Length")
                + " transfer_encoding=" + req.getHeader("Transfer-Encoding")
                + " uri=" + req.getRequestURI() + " query=" + req.getQueryString()
                + " node=" + System.getProperty("jvm.route", "?") + "\n");
        for (String name : Collections.list(req.getHeaderNames())) {
            for (String value : Collections.list(req.getHeaders(name))) {
                out.print(name + ": " + value + "\n");
            }
        }
    }
}
