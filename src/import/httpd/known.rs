//! The directive and section names httpd 2.4 knows: its core, the modules of its
//! distribution and mod_jk. A name outside these is refused, as httpd refuses to start on
//! an "Invalid command". Third-party modules' directives are known once their module is
//! loaded (`LoadModule`).

/// Directives of httpd 2.4 and its bundled modules, and of mod_jk, lowercased.
#[rustfmt::skip]
const DIRECTIVES: &[&str] = &[
    // core, mpm, so, unixd, http
    "acceptfilter", "acceptpathinfo", "accessfilename", "adddefaultcharset", "allowencodedslashes",
    "allowoverride", "allowoverridelist", "cgimapextension", "cgipassauth", "cgivar",
    "contentdigest", "defaultruntimedir", "defaulttype", "define", "documentroot", "enablemmap",
    "enablesendfile", "error", "errordocument", "errorlog", "errorlogformat", "extendedstatus",
    "fileetag", "flushmaxpipelined", "flushmaxthreshold", "hostnamelookups",
    "httpprotocoloptions", "include", "includeoptional", "keepalive", "keepalivetimeout",
    "limitinternalrecursion", "limitrequestbody", "limitrequestfields",
    "limitrequestfieldsize", "limitrequestline", "limitxmlrequestbody", "listen",
    "listenbacklog", "listencoresbucketsratio", "logformat", "loglevel", "maxkeepaliverequests",
    "maxrangeoverlaps", "maxrangereversals", "maxranges", "mergeslashes", "mergetrailers",
    "mutex", "namevirtualhost", "options", "protocol", "protocols", "protocolshonororder",
    "qualifyredirecturl", "readbuffersize", "regexdefaultoptions", "registerhttpmethod",
    "rlimitcpu", "rlimitmem", "rlimitnproc", "scriptinterpretersource", "seerequesttail",
    "serveradmin", "serveralias", "servername", "serverpath", "serverroot", "serversignature",
    "servertokens", "sethandler", "setinputfilter", "setoutputfilter", "stricthostcheck",
    "timeout", "traceenable", "undefine", "usecanonicalname", "usecanonicalphysicalport",
    "loadmodule", "loadfile", "user", "group", "chrootdir", "suexec", "pidfile",
    "scoreboardfile", "maxclients", "maxrequestworkers", "maxconnectionsperchild",
    "maxrequestsperchild", "maxsparethreads", "minsparethreads", "maxspareservers",
    "minspareservers", "startservers", "serverlimit", "threadlimit", "threadsperchild",
    "threadstacksize", "maxmemfree", "asyncrequestworkerfactor", "gracefulshutdowntimeout",
    "coredumpdirectory", "enableexceptionhook", "lockfile", "acceptmutex", "win32disableacceptex",
    "receivebuffersize", "sendbuffersize", "maxthreads", "listenbacklog",
    // access, authn, authz
    "order", "allow", "deny", "satisfy", "require", "authtype", "authname", "authuserfile",
    "authgroupfile", "authbasicprovider", "authbasicauthoritative", "authbasicfake",
    "authbasicusedigestalgorithm", "authdigestprovider", "authdigestalgorithm",
    "authdigestdomain", "authdigestnoncelifetime", "authdigestqop", "authdigestshmemsize",
    "authformprovider", "authnzfcgicheckauthnprovider", "authnzfcgidefineprovider",
    "authzsendforbiddenonfailure", "authmerging", "authndbdprovider", "authdbmuserfile",
    "authdbmgroupfile", "authdbmtype", "authldapurl", "authldapbinddn", "authldapbindpassword",
    "authldapgroupattribute", "authldapgroupattributeisdn", "authldaprequiredn",
    "authncachecontext", "authncacheenable", "authncacheprovidefor", "authncachesocache",
    "authncachetimeout", "authzdbdquery", "authzdbmtype", "anonymous", "anonymous_logemail",
    "anonymous_mustgiveemail", "anonymous_nouserid", "anonymous_verifyemail",
    "authuserfile", "authdefaultauthoritative", "authzdefaultauthoritative",
    "authzgroupfileauthoritative", "authzuserauthoritative", "authbasicauthoritative",
    // mime, dir, alias, autoindex, negotiation, include, actions, cgi
    "addtype", "addcharset", "addencoding", "addhandler", "addinputfilter", "addlanguage",
    "addoutputfilter", "addoutputfilterbytype", "defaultlanguage", "forcetype",
    "mimemagicfile", "modmimeusepathinfo", "multiviewsmatch", "removecharset",
    "removeencoding", "removehandler", "removeinputfilter", "removelanguage",
    "removeoutputfilter", "removetype", "typesconfig", "directoryindex",
    "directoryindexredirect", "directorycheckhandler", "directoryslash", "fallbackresource",
    "alias", "aliasmatch", "redirect", "redirectmatch", "redirectpermanent", "redirecttemp",
    "scriptalias", "scriptaliasmatch", "addalt", "addaltbyencoding", "addaltbytype",
    "adddescription", "addicon", "addiconbyencoding", "addiconbytype", "defaulticon",
    "headername", "indexheadinsert", "indexignore", "indexignorereset", "indexoptions",
    "indexorderdefault", "indexstylesheet", "readmename", "cachenegotiateddocs",
    "forcelanguagepriority", "languagepriority", "ssiendtag", "ssierrormsg", "ssietag",
    "ssilastmodified", "ssilegacyexprparser", "ssistarttag", "ssitimeformat", "ssiundefinedecho",
    "xbithack", "action", "script", "scriptlog", "scriptlogbuffer", "scriptloglength",
    "scriptsock", "cgiscripttimeout", "cgidscripttimeout",
    // log, env, setenvif, headers, rewrite, expires, deflate, filter, status, info
    "customlog", "transferlog", "bufferedlogs", "cookielog", "globallog", "logiotrackttfb",
    "forensiclog", "setenv", "unsetenv", "passenv", "setenvif", "setenvifnocase",
    "setenvifexpr", "browsermatch", "browsermatchnocase", "header", "requestheader",
    "rewriteengine", "rewriterule", "rewritecond", "rewritebase", "rewriteoptions",
    "rewritemap", "rewritelog", "rewriteloglevel", "rewritelock", "expiresactive",
    "expiresbytype", "expiresdefault", "deflatecompressionlevel", "deflatebuffersize",
    "deflatefilternote", "deflateinflatelimitrequestbody", "deflatememlevel",
    "deflatewindowsize", "deflatealteretag", "filterchain", "filterdeclare", "filterprovider",
    "filterprotocol", "filtertrace", "addmoduleinfo", "seerequesttail", "uniqueidheader",
    "usertrack", "cookieexpires", "cookiename", "cookiestyle", "cookietracking",
    "cookiedomain", "cookiehttponly", "cookiesamesite", "cookiesecure", "userdir",
    "substitute", "substituteinheritbefore", "substitutemaxlinelength", "sedinputfilter",
    "sedoutputfilter", "requestreadtimeout", "remoteipheader", "remoteiptrustedproxy",
    "remoteipinternalproxy", "remoteipproxiesheader", "remoteiptrustedproxylist",
    "remoteipinternalproxylist", "remoteipproxyprotocol", "remoteipproxyprotocolexceptions",
    "dumpioinput", "dumpiooutput", "mimemagicfile", "checkspelling", "checkcaseonly",
    "checkbasenamematch", "metadir", "metafiles", "metasuffix", "imapbase", "imapdefault",
    "imapmenu", "lualoadfile", "luahookfixups", "luamaphandler", "luapackagepath",
    "luapackagecpath", "luascope", "luaroot", "luacodecache", "luainherit",
    "cacheenable", "cachedisable", "cacheroot", "cachedefaultexpire", "cachemaxexpire",
    "cacheignorenolastmod", "cacheignorecachecontrol", "cachelock", "cachelockpath",
    "cachelockmaxage", "cachequickhandler", "cacheheader", "cachedetailheader",
    "cacheignoreheaders", "cacheignorequerystring", "cachestorenostore", "cachestoreprivate",
    "cachedirlevels", "cachedirlength", "cachemaxfilesize", "cacheminfilesize",
    "cachesocache", "cachesocachemaxsize", "cachesocachemaxtime", "cachesocachemintime",
    "cachesocachereadsize", "cachesocachereadtime", "cachelastmodifiedfactor",
    "cachekeybaseurl", "cachestaleonerror", "cachestoreexpired", "mmapfile", "cachefile",
    "ldaptrustedglobalcert", "ldaptrustedmode", "ldapcachettl", "ldapopcachettl",
    "keptbodysize", "sessioncookiename", "session", "sessionmaxage", "sessioncryptopassphrase",
    "allowmethods", "ratelimit", "bufferSize", "buffersize", "reflectorheader",
    "watchdoginterval", "heartbeataddress", "heartbeatlisten", "heartbeatstorage",
    "heartbeatmaxservers", "http2", "h2direct", "h2push", "h2maxsessionstreams",
    "h2windowsize", "h2upgrade", "h2modernTLSonly", "h2moderntlsonly", "h2streammaxmemsize",
    "h2maxworkers", "h2minworkers", "h2serializeheaders", "h2copyfiles",
    "usestrictfilesystem", "maxconnectionsperchild",
    // proxy
    "balancergrowth", "balancerinherit", "balancermember", "balancerpersist", "noproxy",
    "proxyaddheaders", "proxybadheader", "proxyblock", "proxydomain", "proxyerroroverride",
    "proxyiobuffersize", "proxymaxforwards", "proxypass", "proxypassinherit",
    "proxypassinterpolateenv", "proxypassmatch", "proxypassreverse",
    "proxypassreversecookiedomain", "proxypassreversecookiepath", "proxypreservehost",
    "proxyreceivebuffersize", "proxyremote", "proxyremotematch", "proxyrequests", "proxyset",
    "proxysourceaddress", "proxystatus", "proxytimeout", "proxyvia", "proxyhtmlbufsize",
    "proxyhtmlcharsetout", "proxyhtmldoctype", "proxyhtmlenable", "proxyhtmlevents",
    "proxyhtmlextended", "proxyhtmlfixups", "proxyhtmlinterp", "proxyhtmllinks",
    "proxyhtmlmeta", "proxyhtmlstripcomments", "proxyhtmlurlmap", "proxyftpdircharset",
    "proxyftpescapewildcards", "proxyftplistonwildcard", "proxyfcgibackendtype",
    "proxyfcgisetenvif", "proxyhcexpr", "proxyhctemplate", "proxyhctpsize",
    "proxyexpressdbmfile", "proxyexpressdbmtype", "proxyexpressenable", "proxyscgiinternalredirect",
    "proxyscgisendfile", "proxywebsocketfallbacktoproxyhttp", "proxywebsocketidletimeout",
    "proxywebsocketasync", "proxywebsocketasyncdelay", "proxyhttpsetencodedslashes",
    "lbmethod", "proxyajpbufsize",
    // ssl
    "sslcacertificatefile", "sslcacertificatepath", "sslcadnrequestfile", "sslcadnrequestpath",
    "sslcarevocationcheck", "sslcarevocationfile", "sslcarevocationpath",
    "sslcertificatechainfile", "sslcertificatefile", "sslcertificatekeyfile", "sslciphersuite",
    "sslcompression", "sslcryptodevice", "sslengine", "sslfips", "sslhonorcipherorder",
    "sslinsecurerenegotiation", "sslocspdefaultresponder", "sslocspenable",
    "sslocspoverrideresponder", "sslocspproxyurl", "sslocsprespondercertificatefile",
    "sslocsprespondertimeout", "sslocspresponsemaxage", "sslocspresponsetimeskew",
    "sslocspuserequestnonce", "sslopensslconfcmd", "ssloptions", "sslpassphrasedialog",
    "sslprotocol", "sslproxycacertificatefile", "sslproxycacertificatepath",
    "sslproxycarevocationcheck", "sslproxycarevocationfile", "sslproxycarevocationpath",
    "sslproxycheckpeercn", "sslproxycheckpeerexpire", "sslproxycheckpeername",
    "sslproxyciphersuite", "sslproxyengine", "sslproxymachinecertificatechainfile",
    "sslproxymachinecertificatefile", "sslproxymachinecertificatepath", "sslproxyprotocol",
    "sslproxyverify", "sslproxyverifydepth", "sslrandomseed", "sslrenegbuffersize",
    "sslrequire", "sslrequiressl", "sslsessioncache", "sslsessioncachetimeout",
    "sslsessionticketkeyfile", "sslsessiontickets", "sslsrpunknownuserseed",
    "sslsrpverifierfile", "sslstaplingcache", "sslstaplingerrorcachetimeout",
    "sslstaplingfaketrylater", "sslstaplingforceurl", "sslstaplingrespondertimeout",
    "sslstaplingresponsemaxage", "sslstaplingresponsetimeskew", "sslstaplingreturnrespondererrors",
    "sslstaplingstandardcachetimeout", "sslstrictsnivhostcheck", "sslusername",
    "sslusestapling", "sslverifyclient", "sslverifydepth", "sslmutex", "sslpolicy",
    // mod_jk
    "jkworkersfile", "jkworkerproperty", "jkmount", "jkunmount", "jkmountfile",
    "jkmountfilereload", "jkmountcopy", "jkautoalias", "jklogfile", "jkloglevel",
    "jklogstampformat", "jkrequestlogformat", "jkoptions", "jkenvvar", "jkshmfile",
    "jkshmsize", "jkwatchdoginterval", "jkstripsession", "jkhttpsindicator",
    "jkcertsindicator", "jkcipherindicator", "jksessionindicator", "jkkeysizeindicator",
    "jklocalnameindicator", "jkignorecl", "jklocalportindicator", "jklocaladdrindicator",
    "jkremotehostindicator", "jkremoteaddrindicator", "jkremoteportindicator",
    "jkremoteuserindicator", "jkauthtypeindicator", "jkworkerindicator",
    "jkcertchainprefix", "jkserverpath",
];

/// Sections: the `<Name` part, lowercased without `<`.
#[rustfmt::skip]
const SECTIONS: &[&str] = &[
    "virtualhost", "location", "locationmatch", "proxy", "proxymatch", "directory",
    "directorymatch", "files", "filesmatch", "limit", "limitexcept", "if", "elseif", "else",
    "requireall", "requireany", "requirenone", "authnprovideralias", "authzprovideralias",
    "ifdefine", "ifmodule", "ifversion", "iffile", "ifdirective", "ifsection", "macro",
];

/// Third-party modules (as `LoadModule` names them, `_module` stripped) and their directives.
#[rustfmt::skip]
const THIRD_PARTY: &[(&str, &[&str])] = &[
    (
        "manager",
        &[
            "managerbalancername", "enablemcmpreceive", "maxcontext", "maxnode", "maxhost",
            "maxsessionid", "maxmcmpmaxmessize", "memmanagerfile", "persistslots",
            "checknonce", "allowdisplay", "allowcmd", "reducedisplay", "setmaxmemsize",
            "responsefieldstatus", "enablewsupgradeheader", "wsupgradeheader",
        ],
    ),
    (
        "proxy_cluster",
        &[
            "creatbalancers", "createbalancers", "usealias", "lbstatusrecalttime",
            "proxyhctemplate", "wsupgradeheader", "deterministicfailover", "responsefieldstatus",
        ],
    ),
    (
        "advertise",
        &[
            "serveradvertise", "advertisegroup", "advertisefrequency", "advertisesecuritykey",
            "advertisemanagerurl", "advertisebindaddress",
        ],
    ),
    (
        "php5",
        &["phpinidir", "php_value", "php_flag", "php_admin_value", "php_admin_flag"],
    ),
    (
        "php7",
        &["phpinidir", "php_value", "php_flag", "php_admin_value", "php_admin_flag"],
    ),
    (
        "php",
        &["phpinidir", "php_value", "php_flag", "php_admin_value", "php_admin_flag"],
    ),
];

/// Whether `lname` (lowercase) is a directive httpd would know with `loaded` modules.
pub(super) fn is_directive(lname: &str, loaded: &[String]) -> bool {
    DIRECTIVES.contains(&lname)
        || THIRD_PARTY
            .iter()
            .any(|(module, names)| loaded.iter().any(|m| m == module) && names.contains(&lname))
}

/// Whether `<lname` (lowercase, without `<`) is a section httpd knows.
pub(super) fn is_section(lname: &str) -> bool {
    SECTIONS.contains(&lname)
}

/// A module's short name: `mod_jk.c`, `jk_module` and `mod_jk` are all `jk`.
pub(super) fn module_name(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let lower = lower.strip_suffix(".c").unwrap_or(&lower);
    let lower = lower.strip_suffix("_module").unwrap_or(lower);
    lower.strip_prefix("mod_").unwrap_or(lower).to_owned()
}

/// Modules taken as loaded whether or not the file loads them: those whose directives
/// ringlb imports, and those of a stock httpd build.
#[rustfmt::skip]
pub(super) const ASSUMED_LOADED: &[&str] = &[
    "core", "so", "http", "mpm_event", "unixd", "proxy", "proxy_http", "proxy_ajp",
    "proxy_balancer", "proxy_hcheck", "proxy_wstunnel", "proxy_connect", "proxy_fcgi",
    "lbmethod_byrequests", "lbmethod_bytraffic", "lbmethod_bybusyness",
    "lbmethod_heartbeat", "slotmem_shm", "watchdog", "jk", "headers", "ssl", "status",
    "log_config", "logio", "mime", "dir", "alias", "setenvif", "env", "rewrite", "version",
    "authz_core", "authz_host", "access_compat", "authn_core", "auth_basic", "socache_shmcb",
    "filter", "reqtimeout", "deflate", "expires", "autoindex", "negotiation",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_in_every_spelling() {
        for name in ["mod_jk.c", "jk_module", "mod_jk", "JK_MODULE"] {
            assert_eq!(module_name(name), "jk", "{name}");
        }
        assert_eq!(module_name("mod_proxy_http.c"), "proxy_http");
    }

    #[test]
    fn third_party_directives_need_their_module() {
        assert!(is_directive("proxypass", &[]));
        assert!(!is_directive("managerbalancername", &[]));
        assert!(is_directive("managerbalancername", &["manager".to_owned()]));
        assert!(!is_directive("\u{a0}", &[]));
        assert!(is_section("virtualhost") && !is_section("servername"));
    }
}
