<%@ page contentType="text/plain; charset=UTF-8" session="false" trimDirectiveWhitespaces="true" %>
<%
    // Odd response headers: repeated fields, an empty value, a long one, a mixed-case name.
    response.addHeader("X-Repeat", "one");
    response.addHeader("X-Repeat", "two");
    response.addHeader("X-Empty", "");
    response.addHeader("x-MiXeD-Case", "v");
    response.addHeader("X-Long", "l".repeat(4000));
    response.addHeader("Cache-Control", "no-cache");
    response.addHeader("Cache-Control", "no-store");
    Cookie c = new Cookie("pref", "a");
    c.setPath(request.getContextPath() + "/");
    response.addCookie(c);
    response.addCookie(new Cookie("other", "b"));
%>
headers ok
