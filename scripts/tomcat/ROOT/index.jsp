<%@ page contentType="text/plain; charset=UTF-8" session="false" trimDirectiveWhitespaces="true" %>
ok node=<%= System.getProperty("jvm.route", "?") %>
