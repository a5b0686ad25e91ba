<%@ page session="false" trimDirectiveWhitespaces="true" %><%
    // big.bin without a Content-Length: flushed every 64 KiB, so the response is committed
    // before its end and goes out chunked (HTTP) or as body packets ending in END_RESPONSE (AJP).
    response.setContentType("application/octet-stream");
    java.io.OutputStream os = response.getOutputStream();
    try (java.io.InputStream in = new java.io.FileInputStream(application.getRealPath("/big.bin"))) {
        byte[] buf = new byte[65536];
        for (int n; (n = in.read(buf)) != -1; ) {
            os.write(buf, 0, n);
            os.flush();
        }
    }
    os.close();
    if (true) return;
%>
