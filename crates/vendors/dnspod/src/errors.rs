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

use idcgate_core::error::{ErrorTable, RefusalKind::*, VendorCode};
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

    pub const ACCOUNT_IS_LOCKED: Text = Text::new(
        "83",
        "Account is locked",
        "该帐户已经被锁定，无法进行任何操作",
    );
    pub const ACT_AS_USER_NOT_UNDER: Text =
        Text::new("7", "User is not under you", "用户不在您名下");
    pub const ALIAS_ALREADY_ADDED: Text = Text::new("8", "Alias already added", "别名已经添加");
    pub const ALIAS_ALREADY_BOUND: Text = Text::new("9", "Alias already bound", "别名已经被绑定");
    pub const ALIAS_DOMAIN_INVALID: Text = Text::new("7", "Alias domain invalid", "别名域名不正确");
    pub const ALIAS_ID_INVALID: Text = Text::new("7", "Alias id invalid", "别名ID错误");
    pub const ALIAS_LIMIT_REACHED: Text =
        Text::new("10", "Alias limit reached", "别名数量已达上限");
    pub const BACKUP_IP_INVALID: Text = Text::new("15", "Backup IP invalid", "备用IP不正确");
    pub const BALANCE_INSUFFICIENT: Text = Text::new("13", "Balance insufficient", "余额不足");
    pub const BATCH_NOTHING_TO_DO: Text = Text::new("6", "Nothing to do", "没有需要处理的数据");
    pub const BATCH_RECORDS_EMPTY: Text =
        Text::new("6", "records must not be empty", "records 参数不能为空");
    pub const BATCH_RECORDS_NOT_ARRAY: Text =
        Text::new("6", "records must be a JSON array", "records 参数不正确");
    pub const BATCH_RECORD_VALUE_NOT_IP: Text = Text::new(
        "6",
        "record_value must be an IP address",
        "record_value 必须是 IP 地址",
    );
    pub const BATCH_TOO_BIG: Text =
        Text::new("6", "Too many items in one job", "单个任务的数据过多");
    pub const BATCH_VALUE_REQUIRED: Text = Text::new(
        "6",
        "value is required when changing record_type",
        "修改记录类型时必须提供 value",
    );
    pub const CALLBACK_URL_INVALID: Text =
        Text::new("22", "Callback URL invalid", "回调地址不正确");
    pub const CAN_NOT_TRANSFER_TO_YOURSELF: Text =
        Text::new("9", "Can not transfer to yourself", "不能过户给自己");
    pub const DOMAIN_DOES_NOT_EXIST: Text = Text::new("10", "Domain does not exist", "域名不存在");
    pub const DOMAIN_EXISTS_AS_AN_ALIAS_OF_ANOTHER_DOMAIN: Text = Text::new(
        "11",
        "Domain exists as an alias of another domain",
        "域名已经作为别名存在",
    );
    pub const DOMAIN_GRADE_INVALID: Text = Text::new("6", "Domain grade invalid", "等级代码不正确");
    pub const DOMAIN_HAS_NO_RECORDS: Text = Text::new("8", "Domain has no records", "域名没有记录");
    pub const DOMAIN_ID_INCORRECT: Text = Text::new("6", "Domain id incorrect", "域名ID不正确");
    pub const DOMAIN_ID_INVALID_6: Text = Text::new("6", "Domain id invalid", "域名编号错误");
    pub const DOMAIN_ID_INVALID_7: Text = Text::new("7", "Domain id invalid", "域名编号错误");
    pub const DOMAIN_INVALID: Text = Text::new("6", "Domain invalid", "域名不正确");
    pub const DOMAIN_IS_ALREADY_LOCKED: Text =
        Text::new("21", "Domain is already locked", "域名已经锁定");
    pub const DOMAIN_IS_BANNED: Text =
        Text::new("11", "Domain is banned", "域名已被封禁，不能取回");
    pub const DOMAIN_IS_EXISTS: Text = Text::new("7", "Domain is exists", "域名已经存在");
    pub const DOMAIN_IS_LOCKED_12: Text =
        Text::new("12", "Domain is locked", "域名已锁定，不能取回");
    pub const DOMAIN_IS_LOCKED_21: Text = Text::new("21", "Domain is locked", "域名已锁定");
    pub const DOMAIN_IS_LOCKED_7: Text = Text::new("7", "Domain is locked", "域名已锁定");
    pub const DOMAIN_IS_NOT_EXISTS: Text = Text::new("13", "Domain is not exists", "域名不存在");
    pub const DOMAIN_IS_NOT_LOCKED: Text = Text::new("8", "Domain is not locked", "域名没有锁定");
    pub const DOMAIN_IS_NOT_OWNED_BY_YOUR_USER: Text = Text::new(
        "8",
        "Domain is not owned by your user",
        "域名不是你名下用户所有",
    );
    pub const DOMAIN_NOT_EXISTS_6: Text = Text::new("6", "Domain not exists", "域名不存在");
    pub const DOMAIN_NOT_EXISTS_7: Text = Text::new("7", "Domain not exists", "域名不存在");
    pub const DTOKEN_REQUIRED: Text = Text::new(
        "50",
        "D-Token is enabled, login_code required",
        "您开启了D令牌，需要验证码",
    );
    pub const DTOKEN_WRONG: Text = Text::new("52", "D-Token code is not correct", "验证码不正确");
    pub const EMAIL_ALREADY_EXISTS: Text =
        Text::new("7", "Email already exists", "用户邮箱已经存在");
    pub const EMAIL_PARAMETER_INVALID: Text =
        Text::new("16", "Email parameter invalid", "邮箱参数不正确");
    pub const ENABLE_THE_DOMAIN_FIRST: Text =
        Text::new("8", "Enable the domain first", "请先启用域名");
    pub const ENABLE_THE_RECORD_FIRST: Text =
        Text::new("9", "Enable the record first", "请先启用记录");
    pub const ENTERPRISE_ACCOUNT_CAN_NOT_ACQUIRE_PERSONAL_DOMAIN: Text = Text::new(
        "14",
        "Enterprise account can not acquire personal domain",
        "企业用户不能取回个人用户的域名",
    );
    pub const ENTERPRISE_DOMAIN_CAN_NOT_TRANSFER_TO_PERSONAL: Text = Text::new(
        "11",
        "Enterprise domain can not transfer to personal",
        "企业域名不能过户给个人",
    );
    pub const GRADE_INVALID: Text = Text::new("10", "Grade invalid", "无效的等级参数");
    pub const GROUP_ID_INVALID_6: Text = Text::new("6", "Group id invalid", "分组ID错误");
    pub const GROUP_ID_INVALID_7: Text = Text::new("7", "Group id invalid", "分组ID错误");
    pub const GROUP_LIMIT_EXCEEDED: Text =
        Text::new("9", "Group limit exceeded", "分组数量超出限制");
    pub const GROUP_NAME_EXISTS: Text = Text::new("8", "Group name exists", "分组名称已经存在");
    pub const GROUP_NAME_INVALID: Text = Text::new("7", "Group name invalid", "分组名称不正确");
    pub const HOST_HEADER_INVALID: Text = Text::new("8", "Host header invalid", "主机头不正确");
    pub const IDN_IS_NOT_SUPPORTED: Text = Text::new("7", "IDN is not supported", "不支持中文域名");
    pub const JOB_NOT_FOUND: Text = Text::new("8", "Job not found", "任务不存在");
    pub const LENGTH_INVALID: Text = Text::new("7", "Length invalid", "共要获取的记录的数量无效");
    pub const LOAD_BALANCE_EXCEEDED: Text = Text::new(
        "500025",
        "Round-robin/load balance limit exceeded",
        "负载均衡数量超出限制",
    );
    pub const LOCK_DAYS_INVALID: Text = Text::new("8", "Lock days invalid", "锁定天数错误");
    pub const LOCK_DAYS_OVER_LIMIT: Text =
        Text::new("9", "Lock days over limit", "锁定天数超出限制");
    pub const LOGIN_BANNED: Text = Text::new(
        "-8",
        "Login failed too many times, account temporarily banned",
        "登录失败次数过多，帐号被暂时封禁",
    );
    pub const LOGIN_FAIL: Text = Text::new(
        "-1",
        "Login fail, please check login info",
        "登录失败，请检查登录信息",
    );
    pub const MONITOR_ID_INVALID: Text = Text::new("7", "Monitor id invalid", "监控编号错误");
    pub const MONITOR_INTERVAL_INVALID: Text =
        Text::new("12", "Monitor interval invalid", "监控间隔不正确");
    pub const MONITOR_PATH_INVALID: Text =
        Text::new("11", "Monitor path invalid", "监控路径不正确");
    pub const MONITOR_POINTS_INVALID: Text =
        Text::new("13", "Monitor points invalid", "监控节点不正确");
    pub const MONITOR_QUOTA_EXCEEDED: Text =
        Text::new("21", "Monitor quota exceeded", "监控数量超出限制");
    pub const MONITOR_TYPE_INVALID: Text =
        Text::new("10", "Monitor type invalid", "监控类型不正确");
    pub const MX_VALUE_SHOULD_BE_1_20: Text =
        Text::new("30", "MX value should be 1-20", "MX优先级应在1-20之间");
    pub const NEW_DOMAIN_INVALID: Text = Text::new("6", "Domain invalid", "域名无效");
    pub const NEW_EMAIL_INVALID: Text = Text::new("9", "New email invalid", "新邮箱不正确");
    pub const NEW_PASSWORD_INVALID: Text =
        Text::new("9", "New password invalid", "新密码不符合要求");
    pub const NEW_PASSWORD_IS_NOT_SECURE: Text =
        Text::new("88", "New password is not secure", "新密码不安全");
    pub const NEW_USER_EMAIL_INVALID: Text = Text::new("6", "Email invalid", "用户邮箱不正确");
    pub const NOT_A_USER_UNDER_YOU: Text = Text::new("-4", "Not a user under you", "不是名下用户");
    pub const NOT_A_VALID_AGENT: Text = Text::new("-3", "Not a valid agent", "不是合法代理");
    pub const NOT_OWNER: Text = Text::new("7", "Permission denied", "不是域名所有者或没有权限");
    pub const NOT_THE_DOMAIN_OWNER: Text = Text::new("9", "Not the domain owner", "不是域名所有者");
    pub const NOT_UNDER_AGENT: Text = Text::new("8", "User is not under you", "不在名下");
    pub const NO_ALIASES: Text = Text::new("7", "No aliases", "没有别名");
    pub const NO_DOMAINS: Text = Text::new("9", "No domains", "没有任何域名");
    pub const NO_RECORDS: Text = Text::new("10", "No records", "记录列表为空");
    pub const NO_SHARES: Text = Text::new("7", "No shares", "没有共享");
    pub const NO_USERS_UNDER_THIS_ACCOUNT: Text =
        Text::new("8", "No users under this account", "账号下没有用户");
    pub const NS_NOT_MODIFIABLE: Text = Text::new(
        "7",
        "Permission denied: default NS records can not be modified",
        "默认NS记录不能修改",
    );
    pub const NS_NOT_REMOVABLE: Text = Text::new(
        "7",
        "Permission denied: default NS records can not be removed",
        "默认NS记录不能删除",
    );
    pub const OFFSET_INVALID: Text = Text::new("6", "Offset invalid", "记录开始的偏移无效");
    pub const OLD_EMAIL_WRONG: Text = Text::new("8", "Old email wrong", "旧邮箱错误");
    pub const OLD_PASSWORD_WRONG: Text = Text::new("8", "Old password wrong", "旧密码错误");
    pub const ORGANIZATION_CODE_INVALID: Text =
        Text::new("11", "Organization code invalid", "企业组织机构代码不合法");
    pub const PARAMETER_INVALID: Text = Text::new("6", "Parameter invalid", "参数错误");
    pub const PASSWORD_HAS_BEEN_USED_BEFORE: Text =
        Text::new("87", "Password has been used before", "该密码之前已使用过");
    pub const PASSWORD_INVALID: Text =
        Text::new("8", "Password invalid (6-18)", "密码不符合要求(6-18位)");
    pub const PASSWORD_WRONG: Text = Text::new("10", "Password wrong", "当前密码错误");
    pub const PERSONAL_ACCOUNT_CAN_NOT_ACQUIRE_ENTERPRISE_DOMAIN: Text = Text::new(
        "13",
        "Personal account can not acquire enterprise domain",
        "个人用户不能取回企业用户的域名",
    );
    pub const PERSONAL_DOMAIN_CAN_NOT_TRANSFER_TO_ENTERPRISE: Text = Text::new(
        "10",
        "Personal domain can not transfer to enterprise",
        "个人域名不能过户给企业",
    );
    pub const PORT_INVALID: Text = Text::new("9", "Port invalid (1-65535)", "端口不正确(1-65535)");
    pub const POST_REQUEST_ONLY: Text = Text::new("2", "Post request only", "只允许POST方法");
    pub const REAL_NAME_INVALID: Text = Text::new("10", "Real name invalid", "真实姓名错误");
    pub const RECORD_CONFLICT: Text = Text::new(
        "31",
        "There are conflicting records (A/CNAME/URL)",
        "存在冲突的记录(A、CNAME、URL不能共存)",
    );
    pub const RECORD_COUNT_EXCEEDED: Text = Text::new(
        "500027",
        "Record count exceeds the limit of the domain grade",
        "记录数量超出域名等级限制",
    );
    pub const RECORD_EXISTS: Text = Text::new("31", "Domain record already exists", "记录已经存在");
    pub const RECORD_ID_INVALID_7: Text = Text::new("7", "Record id invalid", "记录编号错误");
    pub const RECORD_ID_INVALID_8: Text = Text::new("8", "Record id invalid", "记录编号错误");
    pub const RECORD_IS_ALREADY_MONITORED: Text =
        Text::new("20", "Record is already monitored", "该记录已经添加监控");
    pub const RECORD_LINE_INVALID: Text = Text::new("26", "Record line invalid", "记录线路错误");
    pub const RECORD_NOOP_LOCKED: Text = Text::new(
        "-2",
        "Record is locked for 1 hour: too many modifications without change",
        "记录无变化的修改次数过多，已被锁定1小时",
    );
    pub const RECORD_TYPE_INVALID: Text = Text::new("27", "Record type invalid", "记录类型错误");
    pub const RECORD_VALUE_INVALID: Text = Text::new("34", "Record value invalid", "记录值不正确");
    pub const SHARE_ALREADY_EXISTS: Text = Text::new("9", "Share already exists", "共享已经存在");
    pub const SHARE_EMAIL_INVALID: Text = Text::new("7", "Share email invalid", "共享邮箱不正确");
    pub const SHARE_EMAIL_NOT_REGISTERED: Text =
        Text::new("8", "Share email not registered", "共享邮箱未注册");
    pub const SHARE_LIMIT_REACHED: Text =
        Text::new("10", "Share limit reached", "共享数量已达上限");
    pub const SHARE_NOT_FOUND: Text = Text::new("9", "Share not found", "共享不存在");
    pub const STATUS_INVALID: Text = Text::new("7", "Status invalid", "状态不正确");
    pub const SUBDOMAIN_INVALID: Text = Text::new("22", "Subdomain invalid", "子域名不正确");
    pub const SUBDOMAIN_LEVELS_EXCEEDED: Text =
        Text::new("23", "Subdomain levels exceeded", "子域名级数超出限制");
    /// A body over the simulator's limit (the live server's own limit and wording are
    /// not documented).
    pub const REQUEST_TOO_LARGE: Text = Text::new("6", "Request too large", "请求内容过大");
    pub const SUSPENDED: Text = Text::new(
        "-99",
        "This feature is suspended, please retry later",
        "此功能暂停开放，请稍候重试",
    );
    pub const TARGET_EMAIL_INVALID: Text = Text::new("7", "Target email invalid", "目标邮箱不正确");
    pub const TARGET_EMAIL_NOT_REGISTERED: Text =
        Text::new("8", "Target email not registered", "目标邮箱未注册");
    pub const TARGET_IS_NOT_A_VALID_AGENT: Text =
        Text::new("8", "Target is not a valid agent", "对方不是合法代理");
    pub const TELEPHONE_ALREADY_VERIFIED: Text =
        Text::new("4", "Telephone already verified", "手机已经验证");
    pub const TELEPHONE_NUMBER_INVALID_12: Text =
        Text::new("12", "Telephone number invalid", "手机号码不正确");
    pub const TELEPHONE_NUMBER_INVALID_4: Text =
        Text::new("4", "Telephone number invalid", "手机号码非法");
    pub const TELEPHONE_NUMBER_INVALID_5: Text =
        Text::new("5", "Telephone number invalid", "手机号码不正确");
    pub const TELEPHONE_NUMBER_INVALID_8: Text =
        Text::new("8", "Telephone number invalid", "手机号码不正确");
    pub const TERM_INVALID: Text = Text::new("11", "Term invalid", "无效的周期参数");
    pub const TOKEN_ID_INVALID: Text = Text::new(
        "10002",
        "The login token ID is invalid",
        "登录Token ID不正确",
    );
    pub const TOO_MANY_MONITOR_POINTS: Text =
        Text::new("14", "Too many monitor points", "监控节点数量超出限制");
    pub const TRANSFER_USER_NOT_UNDER: Text =
        Text::new("7", "User is not under you", "用户不在名下");
    pub const TTL_OVER_LIMIT: Text = Text::new("32", "TTL over limit", "TTL值超出限制");
    pub const TTL_TOO_SMALL: Text = Text::new("29", "TTL too small", "TTL值太小");
    pub const UNDER_EMAIL_INVALID: Text = Text::new("6", "Email invalid", "邮箱地址错误");
    pub const UNKNOWN_ERROR: Text = Text::new("3", "Unknown error", "未知错误");
    pub const UNLOCK_CODE_IS_WRONG: Text = Text::new("9", "Unlock code is wrong", "解锁码错误");
    pub const USER_AGENT_INVALID: Text = Text::new(
        "-7",
        "User-Agent invalid, use Program/Version (email)",
        "无权使用此接口，请设置合法的UserAgent",
    );
    pub const USER_ID_INVALID_6: Text = Text::new("6", "User id invalid", "用户ID错误");
    pub const USER_ID_INVALID_M5: Text = Text::new("-5", "User id invalid", "用户 ID 错误");
    pub const USER_ID_OR_AGENT_ID_INVALID: Text =
        Text::new("6", "User id or agent id invalid", "用户 ID 或代理 ID 错误");
    pub const USER_IP_INVALID_12: Text = Text::new("12", "User IP invalid", "用户 IP 无效");
    pub const USER_IP_INVALID_15: Text = Text::new("15", "User IP invalid", "用户 IP 地址不正确");
    pub const USER_NOT_EXISTS: Text = Text::new("7", "User not exists", "用户不存在");
    pub const USER_QQ_INVALID: Text = Text::new("9", "User QQ invalid", "用户QQ不正确");
    pub const USER_QQ_MSN_INVALID: Text =
        Text::new("13", "User qq/msn invalid", "用户 qq/msn 不正确");
    pub const USER_TYPE_INVALID: Text = Text::new("9", "User type invalid", "用户类型不正确");
    pub const VERIFICATION_CODE_IS_WRONG: Text =
        Text::new("15", "Verification code is wrong", "验证码不正确");
    pub const VIP_DOMAIN_CAN_NOT_BE_ACQUIRED: Text =
        Text::new("86", "VIP domain can not be acquired", "VIP域名不能取回");
    pub const VIP_DOMAIN_CAN_NOT_BE_DELETED: Text =
        Text::new("8", "VIP domain can not be deleted", "VIP域名不可以删除");
    pub const WILDCARD_SUBDOMAIN_INVALID: Text =
        Text::new("24", "Wildcard subdomain invalid", "泛解析子域名错误");
    pub const SMS_NOTICE_INVALID: Text =
        Text::new("18", "SMS notice setting invalid", "短信通知设置不正确");
    pub const EMAIL_NOTICE_INVALID: Text =
        Text::new("19", "Email notice setting invalid", "邮件通知设置不正确");

    /// Every text above, for the test that each code is in [`ERRORS`](super::ERRORS).
    pub const ALL: &[Text] = &[
        SMS_NOTICE_INVALID,
        EMAIL_NOTICE_INVALID,
        ACCOUNT_IS_LOCKED,
        ACT_AS_USER_NOT_UNDER,
        ALIAS_ALREADY_ADDED,
        ALIAS_ALREADY_BOUND,
        ALIAS_DOMAIN_INVALID,
        ALIAS_ID_INVALID,
        ALIAS_LIMIT_REACHED,
        BACKUP_IP_INVALID,
        BALANCE_INSUFFICIENT,
        BATCH_NOTHING_TO_DO,
        BATCH_RECORDS_EMPTY,
        BATCH_RECORDS_NOT_ARRAY,
        BATCH_RECORD_VALUE_NOT_IP,
        BATCH_TOO_BIG,
        BATCH_VALUE_REQUIRED,
        CALLBACK_URL_INVALID,
        CAN_NOT_TRANSFER_TO_YOURSELF,
        DOMAIN_DOES_NOT_EXIST,
        DOMAIN_EXISTS_AS_AN_ALIAS_OF_ANOTHER_DOMAIN,
        DOMAIN_GRADE_INVALID,
        DOMAIN_HAS_NO_RECORDS,
        DOMAIN_ID_INCORRECT,
        DOMAIN_ID_INVALID_6,
        DOMAIN_ID_INVALID_7,
        DOMAIN_INVALID,
        DOMAIN_IS_ALREADY_LOCKED,
        DOMAIN_IS_BANNED,
        DOMAIN_IS_EXISTS,
        DOMAIN_IS_LOCKED_12,
        DOMAIN_IS_LOCKED_21,
        DOMAIN_IS_LOCKED_7,
        DOMAIN_IS_NOT_EXISTS,
        DOMAIN_IS_NOT_LOCKED,
        DOMAIN_IS_NOT_OWNED_BY_YOUR_USER,
        DOMAIN_NOT_EXISTS_6,
        DOMAIN_NOT_EXISTS_7,
        DTOKEN_REQUIRED,
        DTOKEN_WRONG,
        EMAIL_ALREADY_EXISTS,
        EMAIL_PARAMETER_INVALID,
        ENABLE_THE_DOMAIN_FIRST,
        ENABLE_THE_RECORD_FIRST,
        ENTERPRISE_ACCOUNT_CAN_NOT_ACQUIRE_PERSONAL_DOMAIN,
        ENTERPRISE_DOMAIN_CAN_NOT_TRANSFER_TO_PERSONAL,
        GRADE_INVALID,
        GROUP_ID_INVALID_6,
        GROUP_ID_INVALID_7,
        GROUP_LIMIT_EXCEEDED,
        GROUP_NAME_EXISTS,
        GROUP_NAME_INVALID,
        HOST_HEADER_INVALID,
        IDN_IS_NOT_SUPPORTED,
        JOB_NOT_FOUND,
        LENGTH_INVALID,
        LOAD_BALANCE_EXCEEDED,
        LOCK_DAYS_INVALID,
        LOCK_DAYS_OVER_LIMIT,
        LOGIN_BANNED,
        LOGIN_FAIL,
        MONITOR_ID_INVALID,
        MONITOR_INTERVAL_INVALID,
        MONITOR_PATH_INVALID,
        MONITOR_POINTS_INVALID,
        MONITOR_QUOTA_EXCEEDED,
        MONITOR_TYPE_INVALID,
        MX_VALUE_SHOULD_BE_1_20,
        NEW_DOMAIN_INVALID,
        NEW_EMAIL_INVALID,
        NEW_PASSWORD_INVALID,
        NEW_PASSWORD_IS_NOT_SECURE,
        NEW_USER_EMAIL_INVALID,
        NOT_A_USER_UNDER_YOU,
        NOT_A_VALID_AGENT,
        NOT_OWNER,
        NOT_THE_DOMAIN_OWNER,
        NOT_UNDER_AGENT,
        NO_ALIASES,
        NO_DOMAINS,
        NO_RECORDS,
        NO_SHARES,
        NO_USERS_UNDER_THIS_ACCOUNT,
        NS_NOT_MODIFIABLE,
        NS_NOT_REMOVABLE,
        OFFSET_INVALID,
        OLD_EMAIL_WRONG,
        OLD_PASSWORD_WRONG,
        ORGANIZATION_CODE_INVALID,
        PARAMETER_INVALID,
        PASSWORD_HAS_BEEN_USED_BEFORE,
        PASSWORD_INVALID,
        PASSWORD_WRONG,
        PERSONAL_ACCOUNT_CAN_NOT_ACQUIRE_ENTERPRISE_DOMAIN,
        PERSONAL_DOMAIN_CAN_NOT_TRANSFER_TO_ENTERPRISE,
        PORT_INVALID,
        POST_REQUEST_ONLY,
        REAL_NAME_INVALID,
        RECORD_CONFLICT,
        RECORD_COUNT_EXCEEDED,
        RECORD_EXISTS,
        RECORD_ID_INVALID_7,
        RECORD_ID_INVALID_8,
        RECORD_IS_ALREADY_MONITORED,
        RECORD_LINE_INVALID,
        RECORD_NOOP_LOCKED,
        RECORD_TYPE_INVALID,
        RECORD_VALUE_INVALID,
        REQUEST_TOO_LARGE,
        SHARE_ALREADY_EXISTS,
        SHARE_EMAIL_INVALID,
        SHARE_EMAIL_NOT_REGISTERED,
        SHARE_LIMIT_REACHED,
        SHARE_NOT_FOUND,
        STATUS_INVALID,
        SUBDOMAIN_INVALID,
        SUBDOMAIN_LEVELS_EXCEEDED,
        SUSPENDED,
        TARGET_EMAIL_INVALID,
        TARGET_EMAIL_NOT_REGISTERED,
        TARGET_IS_NOT_A_VALID_AGENT,
        TELEPHONE_ALREADY_VERIFIED,
        TELEPHONE_NUMBER_INVALID_12,
        TELEPHONE_NUMBER_INVALID_4,
        TELEPHONE_NUMBER_INVALID_5,
        TELEPHONE_NUMBER_INVALID_8,
        TERM_INVALID,
        TOKEN_ID_INVALID,
        TOO_MANY_MONITOR_POINTS,
        TRANSFER_USER_NOT_UNDER,
        TTL_OVER_LIMIT,
        TTL_TOO_SMALL,
        UNDER_EMAIL_INVALID,
        UNKNOWN_ERROR,
        UNLOCK_CODE_IS_WRONG,
        USER_AGENT_INVALID,
        USER_ID_INVALID_6,
        USER_ID_INVALID_M5,
        USER_ID_OR_AGENT_ID_INVALID,
        USER_IP_INVALID_12,
        USER_IP_INVALID_15,
        USER_NOT_EXISTS,
        USER_QQ_INVALID,
        USER_QQ_MSN_INVALID,
        USER_TYPE_INVALID,
        VERIFICATION_CODE_IS_WRONG,
        VIP_DOMAIN_CAN_NOT_BE_ACQUIRED,
        VIP_DOMAIN_CAN_NOT_BE_DELETED,
        WILDCARD_SUBDOMAIN_INVALID,
    ];
}

use text::*;

const fn not_found(code: &'static str, text: &'static str) -> VendorCode {
    VendorCode::new(code, NotFound, "").text(text)
}

/// The classification of every code the documents and the simulator use. First match
/// wins within one scope (see the module docs for scopes and texts).
pub static ERRORS: ErrorTable = ErrorTable::new(
    "dnspod",
    &[
        // Login failures: these halt the credentials (see `client`).
        VendorCode::new("-1", Authentication, LOGIN_FAIL.en),
        VendorCode::new("10002", Authentication, TOKEN_ID_INVALID.en),
        VendorCode::new("50", Authentication, DTOKEN_REQUIRED.en),
        VendorCode::new("52", Authentication, DTOKEN_WRONG.en),
        VendorCode::new("83", Authentication, ACCOUNT_IS_LOCKED.en),
        VendorCode::new(
            "85",
            Authentication,
            "Account login from an unusual location",
        ),
        VendorCode::new("-8", Authentication, LOGIN_BANNED.en).text("login"),
        VendorCode::new("-8", Authentication, LOGIN_BANNED.en).text("登录"),
        VendorCode::new("-8", Other, "Agent user's domain needs upgrade"),
        // Our chosen code for the no-op modification lock; the doc's "API usage exceeded".
        VendorCode::new("-2", RateLimited, RECORD_NOOP_LOCKED.en),
        // Per-method meanings.
        VendorCode::new(
            "Domain.Upgrade:13",
            InsufficientBalance,
            BALANCE_INSUFFICIENT.en,
        ),
        VendorCode::new("Domain.Upgrade:7", NotFound, DOMAIN_NOT_EXISTS_7.en),
        VendorCode::new("User.Under:7", NotFound, USER_NOT_EXISTS.en),
        VendorCode::new("Batch.Detail:8", NotFound, JOB_NOT_FOUND.en),
        VendorCode::new("Monitor.Listsubdomain:6", NotFound, DOMAIN_NOT_EXISTS_6.en),
        VendorCode::new("Monitor.Listsubvalue:6", NotFound, DOMAIN_NOT_EXISTS_6.en),
        // Methods that number their own refusals up to 13.
        VendorCode::new(
            "Domain.Acquire:13",
            Other,
            PERSONAL_ACCOUNT_CAN_NOT_ACQUIRE_ENTERPRISE_DOMAIN.en,
        ),
        VendorCode::new(
            "Domain.Acquiresend:13",
            Other,
            PERSONAL_ACCOUNT_CAN_NOT_ACQUIRE_ENTERPRISE_DOMAIN.en,
        ),
        VendorCode::new(
            "Domain.Acquirevalidate:13",
            Other,
            PERSONAL_ACCOUNT_CAN_NOT_ACQUIRE_ENTERPRISE_DOMAIN.en,
        ),
        VendorCode::new(
            "Domain.Acquiresend.New:13",
            Other,
            PERSONAL_ACCOUNT_CAN_NOT_ACQUIRE_ENTERPRISE_DOMAIN.en,
        ),
        VendorCode::new("User.Create:13", Other, USER_QQ_MSN_INVALID.en),
        VendorCode::new("Monitor.Create:13", Other, MONITOR_POINTS_INVALID.en),
        VendorCode::new("Monitor.Modify:13", Other, MONITOR_POINTS_INVALID.en),
        VendorCode::new("13", NotFound, DOMAIN_IS_NOT_EXISTS.en),
        // Record calls point at the field they refuse.
        VendorCode::new("Record.*:22", InvalidInput, SUBDOMAIN_INVALID.en).field("sub_domain"),
        VendorCode::new("Record.*:23", InvalidInput, SUBDOMAIN_LEVELS_EXCEEDED.en)
            .field("sub_domain"),
        VendorCode::new("Record.*:24", InvalidInput, WILDCARD_SUBDOMAIN_INVALID.en)
            .field("sub_domain"),
        VendorCode::new("Record.*:26", InvalidInput, RECORD_LINE_INVALID.en).field("record_line"),
        VendorCode::new("Record.*:27", InvalidInput, RECORD_TYPE_INVALID.en).field("record_type"),
        VendorCode::new("Record.*:29", InvalidInput, TTL_TOO_SMALL.en).field("ttl"),
        VendorCode::new("Record.Modify:32", Other, "NS record count exceeded"),
        VendorCode::new("Record.*:32", InvalidInput, TTL_OVER_LIMIT.en).field("ttl"),
        VendorCode::new("Record.*:30", InvalidInput, MX_VALUE_SHOULD_BE_1_20.en).field("mx"),
        VendorCode::new("Record.*:34", InvalidInput, RECORD_VALUE_INVALID.en).field("value"),
        // 6/7/8 naming an id: the thing is not there (or not yours).
        not_found("6", "domain id"),
        not_found("6", "record id"),
        not_found("6", "monitor id"),
        not_found("6", "域名id"),
        not_found("6", "记录id"),
        not_found("6", "域名编号"),
        not_found("6", "记录编号"),
        not_found("6", "监控编号"),
        not_found("7", "domain id"),
        not_found("7", "record id"),
        not_found("7", "monitor id"),
        not_found("7", "域名id"),
        not_found("7", "记录id"),
        not_found("7", "域名编号"),
        not_found("7", "记录编号"),
        not_found("7", "监控编号"),
        not_found("8", "domain id"),
        not_found("8", "record id"),
        not_found("8", "monitor id"),
        not_found("8", "域名id"),
        not_found("8", "记录id"),
        not_found("8", "域名编号"),
        not_found("8", "记录编号"),
        not_found("8", "监控编号"),
        // Everything else is the vendor's own refusal, kept verbatim.
        VendorCode::new("-3", Other, NOT_A_VALID_AGENT.en),
        VendorCode::new("-4", Other, NOT_A_USER_UNDER_YOU.en),
        VendorCode::new("-5", Other, USER_ID_INVALID_M5.en),
        VendorCode::new("-7", Other, USER_AGENT_INVALID.en),
        VendorCode::new("-99", Other, SUSPENDED.en),
        VendorCode::new("2", Other, POST_REQUEST_ONLY.en),
        VendorCode::new("3", Other, UNKNOWN_ERROR.en),
        VendorCode::new("4", Other, TELEPHONE_ALREADY_VERIFIED.en),
        VendorCode::new("5", Other, TELEPHONE_NUMBER_INVALID_5.en),
        VendorCode::new("6", Other, PARAMETER_INVALID.en),
        VendorCode::new("7", Other, DOMAIN_IS_EXISTS.en),
        VendorCode::new("8", Other, NO_USERS_UNDER_THIS_ACCOUNT.en),
        VendorCode::new("9", Other, NO_DOMAINS.en),
        VendorCode::new("10", Other, NO_RECORDS.en),
        VendorCode::new("11", Other, TERM_INVALID.en),
        VendorCode::new("12", Other, USER_IP_INVALID_12.en),
        VendorCode::new("14", Other, TOO_MANY_MONITOR_POINTS.en),
        VendorCode::new("15", Other, VERIFICATION_CODE_IS_WRONG.en),
        VendorCode::new("16", Other, EMAIL_PARAMETER_INVALID.en),
        VendorCode::new("18", Other, SMS_NOTICE_INVALID.en),
        VendorCode::new("19", Other, EMAIL_NOTICE_INVALID.en),
        VendorCode::new("20", Other, RECORD_IS_ALREADY_MONITORED.en),
        VendorCode::new("21", Other, DOMAIN_IS_LOCKED_21.en),
        VendorCode::new("22", Other, CALLBACK_URL_INVALID.en),
        VendorCode::new("25", Other, LOAD_BALANCE_EXCEEDED.en),
        VendorCode::new("31", Other, RECORD_EXISTS.en),
        VendorCode::new("51", Other, "D-Token is not enabled"),
        VendorCode::new("53", Other, "D-Token is already enabled"),
        VendorCode::new(
            "54",
            Other,
            "The domain owner enabled D-Token; enable yours to manage it",
        ),
        VendorCode::new("86", Other, VIP_DOMAIN_CAN_NOT_BE_ACQUIRED.en),
        VendorCode::new("87", Other, PASSWORD_HAS_BEEN_USED_BEFORE.en),
        VendorCode::new("88", Other, NEW_PASSWORD_IS_NOT_SECURE.en),
        VendorCode::new("500025", Other, LOAD_BALANCE_EXCEEDED.en),
        VendorCode::new("500026", Other, LOAD_BALANCE_EXCEEDED.en),
        VendorCode::new("500027", Other, RECORD_COUNT_EXCEEDED.en),
    ],
);

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
        for (action, code, msg, want) in [
            (
                "Domain.List",
                "-1",
                "Login fail, please check login info",
                "auth",
            ),
            (
                "User.Detail",
                "10002",
                "The login token ID is invalid",
                "auth",
            ),
            ("User.Detail", "-8", "Login failed too many times", "auth"),
            (
                "Record.Create",
                "-8",
                "agent user's domain needs upgrade",
                "upstream:-8",
            ),
            ("Record.Modify", "-2", "API usage is limited", "rate"),
            ("Domain.Info", "13", "Domain is not exists", "not_found"),
            (
                "Domain.Acquire",
                "13",
                "Personal account can not acquire",
                "upstream:13",
            ),
            (
                "Monitor.Create",
                "13",
                "Monitor points invalid",
                "upstream:13",
            ),
            ("Domain.Upgrade", "13", "Balance insufficient", "balance"),
            ("Record.Info", "8", "Record id invalid", "not_found"),
            ("Domain.Create", "7", "Domain is exists", "upstream:7"),
            (
                "Record.Create",
                "22",
                "Subdomain invalid",
                "invalid:sub_domain",
            ),
            ("Record.Create", "32", "TTL over limit", "invalid:ttl"),
            (
                "Record.Modify",
                "32",
                "NS record count exceeded",
                "upstream:32",
            ),
            ("Record.Modify", "29", "TTL too small", "invalid:ttl"),
            ("Record.List", "10", "No records", "upstream:10"),
        ] {
            assert_eq!(kind(action, code, msg), want, "{action} {code}");
        }
    }
}
