//! DNSPod's refusals, in one place for the client (how a code is classified) and the
//! simulator (which code and text it answers with), so the two cannot drift apart.
//!
//! DNSPod numbers refusals per method: `13` is "domain does not exist" wherever a domain
//! is looked up by name but "balance insufficient" in `Domain.Upgrade`; `32` is a TTL
//! limit in `Record.Create` but the NS record count in `Record.Modify`. A code in
//! [`ERRORS`] is therefore scoped: `Method:code` applies to one method, `Module.*:code`
//! to every method of a module, a bare code to every method; [`error`] tries the most
//! specific first. An entry's `text` (lower case) must occur in the lower-cased message
//! — for codes whose meaning is in the wording (`-8` is a login ban or "domain needs
//! upgrade"; `6`/`7`/`8` are "not found" when they name an id), in either language.

use idcgate_core::error::{ErrorTable, RefusalKind::*};
use idcgate_core::Error;

/// What DNSPod says when it refuses: its code and its text in both languages (`lang`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text {
    pub code: &'static str,
    pub en: &'static str,
    pub cn: &'static str,
}

impl Text {
    pub const fn new(code: &'static str, en: &'static str, cn: &'static str) -> Self {
        Text { code, en, cn }
    }
}

/// The texts the simulator answers with, as dnsapi.cn words them.
pub mod text {
    use super::Text;

    /// `NAME = code, English, Chinese;` a row: each a `pub const NAME: Text`, and all of
    /// them in `ALL`.
    macro_rules! texts {
        ($($(#[$doc:meta])* $name:ident = $code:literal, $en:literal, $cn:literal;)*) => {
            $($(#[$doc])* pub const $name: Text = Text::new($code, $en, $cn);)*

            /// Every text above, for the test that each code is in [`ERRORS`](super::ERRORS).
            pub const ALL: &[Text] = &[$($name),*];
        };
    }

    texts! {
        ACCOUNT_IS_LOCKED = "83", "Account is locked", "该帐户已经被锁定，无法进行任何操作";
        ACT_AS_USER_NOT_UNDER = "7", "User is not under you", "用户不在您名下";
        ALIAS_ALREADY_ADDED = "8", "Alias already added", "别名已经添加";
        ALIAS_ALREADY_BOUND = "9", "Alias already bound", "别名已经被绑定";
        ALIAS_DOMAIN_INVALID = "7", "Alias domain invalid", "别名域名不正确";
        ALIAS_ID_INVALID = "7", "Alias id invalid", "别名ID错误";
        ALIAS_LIMIT_REACHED = "10", "Alias limit reached", "别名数量已达上限";
        BACKUP_IP_INVALID = "15", "Backup IP invalid", "备用IP不正确";
        BALANCE_INSUFFICIENT = "13", "Balance insufficient", "余额不足";
        BATCH_NOTHING_TO_DO = "6", "Nothing to do", "没有需要处理的数据";
        BATCH_RECORDS_EMPTY = "6", "records must not be empty", "records 参数不能为空";
        BATCH_RECORDS_NOT_ARRAY = "6", "records must be a JSON array", "records 参数不正确";
        BATCH_RECORD_VALUE_NOT_IP = "6", "record_value must be an IP address", "record_value 必须是 IP 地址";
        BATCH_TOO_BIG = "6", "Too many items in one job", "单个任务的数据过多";
        BATCH_VALUE_REQUIRED = "6", "value is required when changing record_type", "修改记录类型时必须提供 value";
        CALLBACK_URL_INVALID = "22", "Callback URL invalid", "回调地址不正确";
        CAN_NOT_TRANSFER_TO_YOURSELF = "9", "Can not transfer to yourself", "不能过户给自己";
        DOMAIN_DOES_NOT_EXIST = "10", "Domain does not exist", "域名不存在";
        DOMAIN_EXISTS_AS_AN_ALIAS_OF_ANOTHER_DOMAIN = "11", "Domain exists as an alias of another domain", "域名已经作为别名存在";
        DOMAIN_GRADE_INVALID = "6", "Domain grade invalid", "等级代码不正确";
        DOMAIN_HAS_NO_RECORDS = "8", "Domain has no records", "域名没有记录";
        DOMAIN_ID_INCORRECT = "6", "Domain id incorrect", "域名ID不正确";
        DOMAIN_ID_INVALID_6 = "6", "Domain id invalid", "域名编号错误";
        DOMAIN_ID_INVALID_7 = "7", "Domain id invalid", "域名编号错误";
        DOMAIN_INVALID = "6", "Domain invalid", "域名不正确";
        DOMAIN_IS_ALREADY_LOCKED = "21", "Domain is already locked", "域名已经锁定";
        DOMAIN_IS_BANNED = "11", "Domain is banned", "域名已被封禁，不能取回";
        DOMAIN_IS_EXISTS = "7", "Domain is exists", "域名已经存在";
        DOMAIN_IS_LOCKED_12 = "12", "Domain is locked", "域名已锁定，不能取回";
        DOMAIN_IS_LOCKED_21 = "21", "Domain is locked", "域名已锁定";
        DOMAIN_IS_LOCKED_7 = "7", "Domain is locked", "域名已锁定";
        DOMAIN_IS_NOT_EXISTS = "13", "Domain is not exists", "域名不存在";
        DOMAIN_IS_NOT_LOCKED = "8", "Domain is not locked", "域名没有锁定";
        DOMAIN_IS_NOT_OWNED_BY_YOUR_USER = "8", "Domain is not owned by your user", "域名不是你名下用户所有";
        DOMAIN_NOT_EXISTS_6 = "6", "Domain not exists", "域名不存在";
        DOMAIN_NOT_EXISTS_7 = "7", "Domain not exists", "域名不存在";
        DTOKEN_REQUIRED = "50", "D-Token is enabled, login_code required", "您开启了D令牌，需要验证码";
        DTOKEN_WRONG = "52", "D-Token code is not correct", "验证码不正确";
        EMAIL_ALREADY_EXISTS = "7", "Email already exists", "用户邮箱已经存在";
        EMAIL_PARAMETER_INVALID = "16", "Email parameter invalid", "邮箱参数不正确";
        ENABLE_THE_DOMAIN_FIRST = "8", "Enable the domain first", "请先启用域名";
        ENABLE_THE_RECORD_FIRST = "9", "Enable the record first", "请先启用记录";
        ENTERPRISE_ACCOUNT_CAN_NOT_ACQUIRE_PERSONAL_DOMAIN = "14", "Enterprise account can not acquire personal domain", "企业用户不能取回个人用户的域名";
        ENTERPRISE_DOMAIN_CAN_NOT_TRANSFER_TO_PERSONAL = "11", "Enterprise domain can not transfer to personal", "企业域名不能过户给个人";
        GRADE_INVALID = "10", "Grade invalid", "无效的等级参数";
        GROUP_ID_INVALID_6 = "6", "Group id invalid", "分组ID错误";
        GROUP_ID_INVALID_7 = "7", "Group id invalid", "分组ID错误";
        GROUP_LIMIT_EXCEEDED = "9", "Group limit exceeded", "分组数量超出限制";
        GROUP_NAME_EXISTS = "8", "Group name exists", "分组名称已经存在";
        GROUP_NAME_INVALID = "7", "Group name invalid", "分组名称不正确";
        HOST_HEADER_INVALID = "8", "Host header invalid", "主机头不正确";
        IDN_IS_NOT_SUPPORTED = "7", "IDN is not supported", "不支持中文域名";
        JOB_NOT_FOUND = "8", "Job not found", "任务不存在";
        LENGTH_INVALID = "7", "Length invalid", "共要获取的记录的数量无效";
        LOAD_BALANCE_EXCEEDED = "500025", "Round-robin/load balance limit exceeded", "负载均衡数量超出限制";
        LOCK_DAYS_INVALID = "8", "Lock days invalid", "锁定天数错误";
        LOCK_DAYS_OVER_LIMIT = "9", "Lock days over limit", "锁定天数超出限制";
        LOGIN_BANNED = "-8", "Login failed too many times, account temporarily banned", "登录失败次数过多，帐号被暂时封禁";
        LOGIN_FAIL = "-1", "Login fail, please check login info", "登录失败，请检查登录信息";
        MONITOR_ID_INVALID = "7", "Monitor id invalid", "监控编号错误";
        MONITOR_INTERVAL_INVALID = "12", "Monitor interval invalid", "监控间隔不正确";
        MONITOR_PATH_INVALID = "11", "Monitor path invalid", "监控路径不正确";
        MONITOR_POINTS_INVALID = "13", "Monitor points invalid", "监控节点不正确";
        MONITOR_QUOTA_EXCEEDED = "21", "Monitor quota exceeded", "监控数量超出限制";
        MONITOR_TYPE_INVALID = "10", "Monitor type invalid", "监控类型不正确";
        MX_VALUE_SHOULD_BE_1_20 = "30", "MX value should be 1-20", "MX优先级应在1-20之间";
        NEW_DOMAIN_INVALID = "6", "Domain invalid", "域名无效";
        NEW_EMAIL_INVALID = "9", "New email invalid", "新邮箱不正确";
        NEW_PASSWORD_INVALID = "9", "New password invalid", "新密码不符合要求";
        NEW_PASSWORD_IS_NOT_SECURE = "88", "New password is not secure", "新密码不安全";
        NEW_USER_EMAIL_INVALID = "6", "Email invalid", "用户邮箱不正确";
        NOT_A_USER_UNDER_YOU = "-4", "Not a user under you", "不是名下用户";
        NOT_A_VALID_AGENT = "-3", "Not a valid agent", "不是合法代理";
        NOT_OWNER = "7", "Permission denied", "不是域名所有者或没有权限";
        NOT_THE_DOMAIN_OWNER = "9", "Not the domain owner", "不是域名所有者";
        NOT_UNDER_AGENT = "8", "User is not under you", "不在名下";
        NO_ALIASES = "7", "No aliases", "没有别名";
        NO_DOMAINS = "9", "No domains", "没有任何域名";
        NO_RECORDS = "10", "No records", "记录列表为空";
        NO_SHARES = "7", "No shares", "没有共享";
        NO_USERS_UNDER_THIS_ACCOUNT = "8", "No users under this account", "账号下没有用户";
        NS_NOT_MODIFIABLE = "7", "Permission denied: default NS records can not be modified", "默认NS记录不能修改";
        NS_NOT_REMOVABLE = "7", "Permission denied: default NS records can not be removed", "默认NS记录不能删除";
        OFFSET_INVALID = "6", "Offset invalid", "记录开始的偏移无效";
        OLD_EMAIL_WRONG = "8", "Old email wrong", "旧邮箱错误";
        OLD_PASSWORD_WRONG = "8", "Old password wrong", "旧密码错误";
        ORGANIZATION_CODE_INVALID = "11", "Organization code invalid", "企业组织机构代码不合法";
        PARAMETER_INVALID = "6", "Parameter invalid", "参数错误";
        PASSWORD_HAS_BEEN_USED_BEFORE = "87", "Password has been used before", "该密码之前已使用过";
        PASSWORD_INVALID = "8", "Password invalid (6-18)", "密码不符合要求(6-18位)";
        PASSWORD_WRONG = "10", "Password wrong", "当前密码错误";
        PERSONAL_ACCOUNT_CAN_NOT_ACQUIRE_ENTERPRISE_DOMAIN = "13", "Personal account can not acquire enterprise domain", "个人用户不能取回企业用户的域名";
        PERSONAL_DOMAIN_CAN_NOT_TRANSFER_TO_ENTERPRISE = "10", "Personal domain can not transfer to enterprise", "个人域名不能过户给企业";
        PORT_INVALID = "9", "Port invalid (1-65535)", "端口不正确(1-65535)";
        POST_REQUEST_ONLY = "2", "Post request only", "只允许POST方法";
        REAL_NAME_INVALID = "10", "Real name invalid", "真实姓名错误";
        RECORD_CONFLICT = "31", "There are conflicting records (A/CNAME/URL)", "存在冲突的记录(A、CNAME、URL不能共存)";
        RECORD_COUNT_EXCEEDED = "500027", "Record count exceeds the limit of the domain grade", "记录数量超出域名等级限制";
        RECORD_EXISTS = "31", "Domain record already exists", "记录已经存在";
        RECORD_ID_INVALID_7 = "7", "Record id invalid", "记录编号错误";
        RECORD_ID_INVALID_8 = "8", "Record id invalid", "记录编号错误";
        RECORD_IS_ALREADY_MONITORED = "20", "Record is already monitored", "该记录已经添加监控";
        RECORD_LINE_INVALID = "26", "Record line invalid", "记录线路错误";
        RECORD_NOOP_LOCKED = "-2", "Record is locked for 1 hour: too many modifications without change", "记录无变化的修改次数过多，已被锁定1小时";
        RECORD_TYPE_INVALID = "27", "Record type invalid", "记录类型错误";
        RECORD_VALUE_INVALID = "34", "Record value invalid", "记录值不正确";
        SHARE_ALREADY_EXISTS = "9", "Share already exists", "共享已经存在";
        SHARE_EMAIL_INVALID = "7", "Share email invalid", "共享邮箱不正确";
        SHARE_EMAIL_NOT_REGISTERED = "8", "Share email not registered", "共享邮箱未注册";
        SHARE_LIMIT_REACHED = "10", "Share limit reached", "共享数量已达上限";
        SHARE_NOT_FOUND = "9", "Share not found", "共享不存在";
        STATUS_INVALID = "7", "Status invalid", "状态不正确";
        SUBDOMAIN_INVALID = "22", "Subdomain invalid", "子域名不正确";
        SUBDOMAIN_LEVELS_EXCEEDED = "23", "Subdomain levels exceeded", "子域名级数超出限制";
        /// A body over the simulator's limit (the live server's own limit and wording are
        /// not documented).
        REQUEST_TOO_LARGE = "6", "Request too large", "请求内容过大";
        SUSPENDED = "-99", "This feature is suspended, please retry later", "此功能暂停开放，请稍候重试";
        TARGET_EMAIL_INVALID = "7", "Target email invalid", "目标邮箱不正确";
        TARGET_EMAIL_NOT_REGISTERED = "8", "Target email not registered", "目标邮箱未注册";
        TARGET_IS_NOT_A_VALID_AGENT = "8", "Target is not a valid agent", "对方不是合法代理";
        TELEPHONE_ALREADY_VERIFIED = "4", "Telephone already verified", "手机已经验证";
        TELEPHONE_NUMBER_INVALID_12 = "12", "Telephone number invalid", "手机号码不正确";
        TELEPHONE_NUMBER_INVALID_4 = "4", "Telephone number invalid", "手机号码非法";
        TELEPHONE_NUMBER_INVALID_5 = "5", "Telephone number invalid", "手机号码不正确";
        TELEPHONE_NUMBER_INVALID_8 = "8", "Telephone number invalid", "手机号码不正确";
        TERM_INVALID = "11", "Term invalid", "无效的周期参数";
        TOKEN_ID_INVALID = "10002", "The login token ID is invalid", "登录Token ID不正确";
        TOO_MANY_MONITOR_POINTS = "14", "Too many monitor points", "监控节点数量超出限制";
        TRANSFER_USER_NOT_UNDER = "7", "User is not under you", "用户不在名下";
        TTL_OVER_LIMIT = "32", "TTL over limit", "TTL值超出限制";
        TTL_TOO_SMALL = "29", "TTL too small", "TTL值太小";
        UNDER_EMAIL_INVALID = "6", "Email invalid", "邮箱地址错误";
        UNKNOWN_ERROR = "3", "Unknown error", "未知错误";
        UNLOCK_CODE_IS_WRONG = "9", "Unlock code is wrong", "解锁码错误";
        USER_AGENT_INVALID = "-7", "User-Agent invalid, use Program/Version (email)", "无权使用此接口，请设置合法的UserAgent";
        USER_ID_INVALID_6 = "6", "User id invalid", "用户ID错误";
        USER_ID_INVALID_M5 = "-5", "User id invalid", "用户 ID 错误";
        USER_ID_OR_AGENT_ID_INVALID = "6", "User id or agent id invalid", "用户 ID 或代理 ID 错误";
        USER_IP_INVALID_12 = "12", "User IP invalid", "用户 IP 无效";
        USER_IP_INVALID_15 = "15", "User IP invalid", "用户 IP 地址不正确";
        USER_NOT_EXISTS = "7", "User not exists", "用户不存在";
        USER_QQ_INVALID = "9", "User QQ invalid", "用户QQ不正确";
        USER_QQ_MSN_INVALID = "13", "User qq/msn invalid", "用户 qq/msn 不正确";
        USER_TYPE_INVALID = "9", "User type invalid", "用户类型不正确";
        VERIFICATION_CODE_IS_WRONG = "15", "Verification code is wrong", "验证码不正确";
        VIP_DOMAIN_CAN_NOT_BE_ACQUIRED = "86", "VIP domain can not be acquired", "VIP域名不能取回";
        VIP_DOMAIN_CAN_NOT_BE_DELETED = "8", "VIP domain can not be deleted", "VIP域名不可以删除";
        WILDCARD_SUBDOMAIN_INVALID = "24", "Wildcard subdomain invalid", "泛解析子域名错误";
        SMS_NOTICE_INVALID = "18", "SMS notice setting invalid", "短信通知设置不正确";
        EMAIL_NOTICE_INVALID = "19", "Email notice setting invalid", "邮件通知设置不正确";
    }
}

use text::*;

/// The classification of every code the documents and the simulator use. First match
/// wins within one scope (see the module docs for scopes and texts).
pub static ERRORS: ErrorTable = ErrorTable::new(
    "dnspod",
    idcgate_core::vendor_codes! {
        // Login failures: these halt the credentials (see `client`).
        "-1" Authentication LOGIN_FAIL.en;
        "10002" Authentication TOKEN_ID_INVALID.en;
        "50" Authentication DTOKEN_REQUIRED.en;
        "52" Authentication DTOKEN_WRONG.en;
        "83" Authentication ACCOUNT_IS_LOCKED.en;
        "85" Authentication "Account login from an unusual location";
        "-8" Authentication LOGIN_BANNED.en, "login";
        "-8" Authentication LOGIN_BANNED.en, "登录";
        "-8" Other "Agent user's domain needs upgrade";
        // Our chosen code for the no-op modification lock; the doc's "API usage exceeded".
        "-2" RateLimited RECORD_NOOP_LOCKED.en;
        // Per-method meanings.
        "Domain.Upgrade:13" InsufficientBalance BALANCE_INSUFFICIENT.en;
        "Domain.Upgrade:7" NotFound DOMAIN_NOT_EXISTS_7.en;
        "User.Under:7" NotFound USER_NOT_EXISTS.en;
        "Batch.Detail:8" NotFound JOB_NOT_FOUND.en;
        "Monitor.Listsubdomain:6" NotFound DOMAIN_NOT_EXISTS_6.en;
        "Monitor.Listsubvalue:6" NotFound DOMAIN_NOT_EXISTS_6.en;
        // Methods that number their own refusals up to 13.
        "Domain.Acquire:13" Other PERSONAL_ACCOUNT_CAN_NOT_ACQUIRE_ENTERPRISE_DOMAIN.en;
        "Domain.Acquiresend:13" Other PERSONAL_ACCOUNT_CAN_NOT_ACQUIRE_ENTERPRISE_DOMAIN.en;
        "Domain.Acquirevalidate:13" Other PERSONAL_ACCOUNT_CAN_NOT_ACQUIRE_ENTERPRISE_DOMAIN.en;
        "Domain.Acquiresend.New:13" Other PERSONAL_ACCOUNT_CAN_NOT_ACQUIRE_ENTERPRISE_DOMAIN.en;
        // Methods that number each bad parameter (see `invalid_param`): the field named.
        "User.Create:6" InvalidInput.email NEW_USER_EMAIL_INVALID.en;
        "User.Create:8" InvalidInput.password PASSWORD_INVALID.en;
        "User.Create:9" InvalidInput.user_type USER_TYPE_INVALID.en;
        "User.Create:10" InvalidInput.real_name REAL_NAME_INVALID.en;
        "User.Create:11" InvalidInput.id_card ORGANIZATION_CODE_INVALID.en;
        "User.Create:12" InvalidInput.telephone TELEPHONE_NUMBER_INVALID_12.en;
        "User.Create:13" InvalidInput.im USER_QQ_MSN_INVALID.en;
        "User.Create:15" InvalidInput.ip_addr USER_IP_INVALID_15.en;
        "Monitor.Create:8" InvalidInput.host HOST_HEADER_INVALID.en;
        "Monitor.Modify:8" InvalidInput.host HOST_HEADER_INVALID.en;
        "Monitor.Create:9" InvalidInput.port PORT_INVALID.en;
        "Monitor.Modify:9" InvalidInput.port PORT_INVALID.en;
        "Monitor.Create:10" InvalidInput.monitor_type MONITOR_TYPE_INVALID.en;
        "Monitor.Modify:10" InvalidInput.monitor_type MONITOR_TYPE_INVALID.en;
        "Monitor.Create:11" InvalidInput.monitor_path MONITOR_PATH_INVALID.en;
        "Monitor.Modify:11" InvalidInput.monitor_path MONITOR_PATH_INVALID.en;
        "Monitor.Create:12" InvalidInput.monitor_interval MONITOR_INTERVAL_INVALID.en;
        "Monitor.Modify:12" InvalidInput.monitor_interval MONITOR_INTERVAL_INVALID.en;
        "Monitor.Create:13" InvalidInput.points MONITOR_POINTS_INVALID.en;
        "Monitor.Modify:13" InvalidInput.points MONITOR_POINTS_INVALID.en;
        "Monitor.Create:15" InvalidInput.bak_ip BACKUP_IP_INVALID.en;
        "Monitor.Modify:15" InvalidInput.bak_ip BACKUP_IP_INVALID.en;
        "Monitor.Create:18" InvalidInput.sms_notice SMS_NOTICE_INVALID.en;
        "Monitor.Modify:18" InvalidInput.sms_notice SMS_NOTICE_INVALID.en;
        "Monitor.Create:19" InvalidInput.email_notice EMAIL_NOTICE_INVALID.en;
        "Monitor.Modify:19" InvalidInput.email_notice EMAIL_NOTICE_INVALID.en;
        "Monitor.Create:22" InvalidInput.callback_url CALLBACK_URL_INVALID.en;
        "Monitor.Modify:22" InvalidInput.callback_url CALLBACK_URL_INVALID.en;
        "13" NotFound DOMAIN_IS_NOT_EXISTS.en;
        // Record calls point at the field they refuse.
        "Record.*:22" InvalidInput.sub_domain SUBDOMAIN_INVALID.en;
        "Record.*:23" InvalidInput.sub_domain SUBDOMAIN_LEVELS_EXCEEDED.en;
        "Record.*:24" InvalidInput.sub_domain WILDCARD_SUBDOMAIN_INVALID.en;
        "Record.*:26" InvalidInput.record_line RECORD_LINE_INVALID.en;
        "Record.*:27" InvalidInput.record_type RECORD_TYPE_INVALID.en;
        "Record.*:29" InvalidInput.ttl TTL_TOO_SMALL.en;
        "Record.Modify:32" Other "NS record count exceeded";
        "Record.*:32" InvalidInput.ttl TTL_OVER_LIMIT.en;
        "Record.*:30" InvalidInput.mx MX_VALUE_SHOULD_BE_1_20.en;
        "Record.*:34" InvalidInput.value RECORD_VALUE_INVALID.en;
        // 6/7/8 naming an id: the thing is not there (or not yours).
        "6" NotFound "", "domain id";
        "6" NotFound "", "record id";
        "6" NotFound "", "monitor id";
        "6" NotFound "", "域名id";
        "6" NotFound "", "记录id";
        "6" NotFound "", "域名编号";
        "6" NotFound "", "记录编号";
        "6" NotFound "", "监控编号";
        "7" NotFound "", "domain id";
        "7" NotFound "", "record id";
        "7" NotFound "", "monitor id";
        "7" NotFound "", "域名id";
        "7" NotFound "", "记录id";
        "7" NotFound "", "域名编号";
        "7" NotFound "", "记录编号";
        "7" NotFound "", "监控编号";
        "8" NotFound "", "domain id";
        "8" NotFound "", "record id";
        "8" NotFound "", "monitor id";
        "8" NotFound "", "域名id";
        "8" NotFound "", "记录id";
        "8" NotFound "", "域名编号";
        "8" NotFound "", "记录编号";
        "8" NotFound "", "监控编号";
        // Everything else is the vendor's own refusal, kept verbatim.
        "-3" Other NOT_A_VALID_AGENT.en;
        "-4" Other NOT_A_USER_UNDER_YOU.en;
        "-5" Other USER_ID_INVALID_M5.en;
        "-7" Other USER_AGENT_INVALID.en;
        "-99" Other SUSPENDED.en;
        "2" Other POST_REQUEST_ONLY.en;
        "3" Other UNKNOWN_ERROR.en;
        "4" Other TELEPHONE_ALREADY_VERIFIED.en;
        "5" Other TELEPHONE_NUMBER_INVALID_5.en;
        "6" Other PARAMETER_INVALID.en;
        "7" Other DOMAIN_IS_EXISTS.en;
        "8" Other NO_USERS_UNDER_THIS_ACCOUNT.en;
        "9" Other NO_DOMAINS.en;
        "10" Other NO_RECORDS.en;
        "11" Other TERM_INVALID.en;
        "12" Other USER_IP_INVALID_12.en;
        "14" Other TOO_MANY_MONITOR_POINTS.en;
        "15" Other VERIFICATION_CODE_IS_WRONG.en;
        "16" Other EMAIL_PARAMETER_INVALID.en;
        "18" Other SMS_NOTICE_INVALID.en;
        "19" Other EMAIL_NOTICE_INVALID.en;
        "20" Other RECORD_IS_ALREADY_MONITORED.en;
        "21" Other DOMAIN_IS_LOCKED_21.en;
        "22" Other CALLBACK_URL_INVALID.en;
        "25" Other LOAD_BALANCE_EXCEEDED.en;
        "31" Other RECORD_EXISTS.en;
        "51" Other "D-Token is not enabled";
        "53" Other "D-Token is already enabled";
        "54" Other "The domain owner enabled D-Token; enable yours to manage it";
        "86" Other VIP_DOMAIN_CAN_NOT_BE_ACQUIRED.en;
        "87" Other PASSWORD_HAS_BEEN_USED_BEFORE.en;
        "88" Other NEW_PASSWORD_IS_NOT_SECURE.en;
        "500025" Other LOAD_BALANCE_EXCEEDED.en;
        "500026" Other LOAD_BALANCE_EXCEEDED.en;
        "500027" Other RECORD_COUNT_EXCEEDED.en;
    },
);

/// What `method` answers for a parameter it refuses, missing or not one of its values,
/// where the document numbers that parameter's refusal (User.Create's 6-15, the monitor
/// methods' 8-22); `None` leaves the generic "parameter invalid" (6). The simulator
/// answers from here and [`ERRORS`] names the field for the client, so the two agree.
pub fn invalid_param(method: &str, field: &str) -> Option<Text> {
    let t = match (method, field) {
        ("User.Create", "email") => NEW_USER_EMAIL_INVALID,
        ("User.Create", "password") => PASSWORD_INVALID,
        ("User.Create", "user_type") => USER_TYPE_INVALID,
        ("User.Create", "real_name") => REAL_NAME_INVALID,
        ("User.Create", "id_card") => ORGANIZATION_CODE_INVALID,
        ("User.Create", "telephone") => TELEPHONE_NUMBER_INVALID_12,
        ("User.Create", "im") => USER_QQ_MSN_INVALID,
        ("User.Create", "ip_addr") => USER_IP_INVALID_15,
        ("Monitor.Create" | "Monitor.Modify", f) => match f {
            "host" => HOST_HEADER_INVALID,
            "port" => PORT_INVALID,
            "monitor_type" => MONITOR_TYPE_INVALID,
            "monitor_path" => MONITOR_PATH_INVALID,
            "monitor_interval" => MONITOR_INTERVAL_INVALID,
            "points" => MONITOR_POINTS_INVALID,
            "bak_ip" => BACKUP_IP_INVALID,
            "sms_notice" => SMS_NOTICE_INVALID,
            "email_notice" => EMAIL_NOTICE_INVALID,
            "callback_url" => CALLBACK_URL_INVALID,
            _ => return None,
        },
        _ => return None,
    };
    Some(t)
}

/// A refusal of `action` (DNSPod's method name) as the caller's error. The texts keep
/// DNSPod's shape (`"<code> <message>"`), which callers and logs already read.
pub fn error(action: &str, code: &str, message: &str) -> Error {
    let lower = message.to_lowercase();
    let module = action.split('.').next().unwrap_or(action);
    let entry = [
        format!("{action}:{code}"),
        format!("{module}.*:{code}"),
        code.to_string(),
    ]
    .iter()
    .find_map(|key| ERRORS.lookup(key, &lower));
    let kind = entry.map_or(Other, |e| e.kind);
    let text = match kind {
        RateLimited | InsufficientBalance => message.to_string(),
        NotFound => format!("{action}: {message}"),
        _ => format!("{code} {message}"),
    };
    ERRORS.classified(kind, code, message, entry.and_then(|e| e.field), text)
}

#[cfg(test)]
mod tests {
    use super::{error, text, ERRORS};
    use idcgate_core::Error;

    #[test]
    fn every_simulated_code_is_in_the_table() {
        for t in text::ALL {
            assert!(
                ERRORS
                    .codes
                    .iter()
                    .any(|c| c.code == t.code || c.code.ends_with(&format!(":{}", t.code))),
                "{t:?}"
            );
        }
    }

    /// DNSPod reuses small codes with per-method meanings; each pair below is one the
    /// catalog documents.
    #[test]
    fn codes_are_read_per_method() {
        let kind = |action: &str, code: &str, msg: &str| match error(action, code, msg) {
            Error::Authentication { .. } => "auth".to_string(),
            Error::RateLimited { .. } => "rate".into(),
            Error::NotFound { .. } => "not_found".into(),
            Error::InsufficientBalance { .. } => "balance".into(),
            Error::InvalidInput { field, .. } => format!("invalid:{field}"),
            Error::Upstream { code, .. } => format!("upstream:{code}"),
            other => format!("{other:?}"),
        };
        // action | code | what it reads as | message
        for row in [
            "Domain.List    | -1    | auth               | Login fail, please check login info",
            "User.Detail    | 10002 | auth               | The login token ID is invalid",
            "User.Detail    | -8    | auth               | Login failed too many times",
            "Record.Create  | -8    | upstream:-8        | agent user's domain needs upgrade",
            "Record.Modify  | -2    | rate               | API usage is limited",
            "Domain.Info    | 13    | not_found          | Domain is not exists",
            "Domain.Acquire | 13    | upstream:13        | Personal account can not acquire",
            "Monitor.Create | 13    | invalid:points     | Monitor points invalid",
            "Monitor.Create | 12    | invalid:monitor_interval | Monitor interval invalid",
            "Monitor.Modify | 10    | invalid:monitor_type | Monitor type invalid",
            "User.Create    | 9     | invalid:user_type  | User type invalid",
            "User.Create    | 10    | invalid:real_name  | Real name invalid",
            "Domain.List    | 9     | upstream:9         | No domains",
            "Domain.Upgrade | 13    | balance            | Balance insufficient",
            "Record.Info    | 8     | not_found          | Record id invalid",
            "Domain.Create  | 7     | upstream:7         | Domain is exists",
            "Record.Create  | 22    | invalid:sub_domain | Subdomain invalid",
            "Record.Create  | 32    | invalid:ttl        | TTL over limit",
            "Record.Modify  | 32    | upstream:32        | NS record count exceeded",
            "Record.Modify  | 29    | invalid:ttl        | TTL too small",
            "Record.List    | 10    | upstream:10        | No records",
        ] {
            let [action, code, want, msg] = row.split(" | ").map(str::trim).collect::<Vec<_>>()[..]
            else {
                panic!("{row}")
            };
            assert_eq!(kind(action, code, msg), want, "{action} {code}");
        }
    }
}
