<%@ page contentType="text/plain; charset=UTF-8" session="false" trimDirectiveWhitespaces="true" %>
<%
    // An application failure: Tomcat answers 500 with its error page.
    if (request != null) throw new IllegalStateException("thrown on purpose by throw.jsp");
%>
