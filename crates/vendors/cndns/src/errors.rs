//! CNDNS's error codes: how the client classifies a refusal and which code (and, when a
//! handler has no wording of its own, which message) the simulator answers with.
//!
//! Every code of the v2.2.1 document and every code the simulator sends has an entry.
//! Codes are per endpoint in CNDNS (11105 is a bad suffix to `dmcheck/check` and a bad
//! contact id to `CreateDom`; 10001 is a refused IP everywhere but a failed price query
//! in `getProductPrice`), so where one code has two meanings an entry matched by the
//! wording comes first. Modules that fail with text alone (CDN, DDOS, 百度云, 阿里云,
//! the price queries) are classified by their wording under the empty code.

use idcgate_core::error::{ErrorTable, RefusalKind, VendorCode};

/// The table. Errors keep CNDNS's own `"<code> <text>"` as their message (callers and
/// operators read the code at its head), and a failure whose text names a field
/// (`密码非法(password)`) is invalid input whatever its code: CNDNS codes are per
/// endpoint, so a code-keyed table cannot know every such field.
pub static ERRORS: ErrorTable = ErrorTable::new("cndns", CODES)
    .worded(code_first)
    .named_field_is_invalid();

/// `"<code> <text>"`, or the text alone for the modules that fail with text only.
fn code_first(_kind: RefusalKind, code: &str, message: &str) -> String {
    if code.is_empty() {
        message.to_string()
    } else {
        format!("{code} {message}")
    }
}

/// The code an action answers for a required parameter left empty, where its [结果]
/// table has one of its own (`11301 域名为空` to DNSList, `11303 主机头不能为空` to
/// AddRec, `10015 ... 为空` to the product modules); `None`: the generic 10012.
pub fn empty_code(action: &str, field: &str) -> Option<u32> {
    EMPTY
        .iter()
        .find(|(_, f, actions)| *f == field && actions.split(' ').any(|a| a == action))
        .map(|(code, _, _)| *code)
}

/// (code, parameter, the actions it is theirs for, blank-separated), each code from
/// those actions' own tables
/// (tests/it/quirks.rs checks every row against the catalog).
const EMPTY: &[(u32, &str, &str)] = &[
    (11101, "domain-name", "dmcheck/check"),
    (11102, "tld", "dmcheck/check"),
    (11033, "userid", "/domains/deletecontact"),
    (11731, "authcode", "/domains/domainzhuanru"),
    (11131, "userid", "/domains/createdom"),
    (11108, "years", "/domains/createdom"),
    (11103, "domainname", "/domains/createdom"),
    (11103, "domainpass", "/domains/createdom"),
    (11301, "domainname", "/domains/domainrenew /domains/modifypassword /domains/dnslist /domains/modifydns /domains/addrec /domains/modifyrec /domains/deleterec"),
    (11501, "password", "/domains/modifypassword"),
    (11401, "dns_hst1", "/domains/modifydns"),
    (11402, "dns_hst2", "/domains/modifydns"),
    (11303, "rec_item", "/domains/addrec"),
    (11306, "rec_type", "/domains/addrec"),
    (11305, "rec_value", "/domains/addrec /domains/modifyrec"),
    (11317, "rec_id", "/domains/modifyrec /domains/deleterec"),
    (10015, "domainname", "/domains/domaindetail"),
    (13139, "domainname", "/hosting/binddomain /hosting/unbinddomain"),
    (15112, "mailboxsize", "/mail/modifymailboxsize"),
    (15118, "mailaccount", "/mail/deletemailbox /mail/setadminmailbox"),
    (12002, "webname", "/sitestarpro/geteditweburl"),
    (12119, "sitetag", "/sitestarpro/siteupgrade"),
    (12104, "domainname", "/sitestarpro/binddomain /sitestarpro/deletedomain"),
    (10015, "nme", "/qituibao/reneworder"),
    (10027, "praname", "/product/checkpraname"),
    (10028, "protype", "/product/checkpraname"),
    (10015, "ftpname", "/hosting/renewhosting /hosting/hostingupgrade /hosting/modifyftpstate /hosting/modifywebstate /hosting/modifypassword /hosting/setdefaultpage /hosting/set404page /hosting/modifynetversion /hosting/setdefaultipaccess /hosting/denydefineip /hosting/grantdefineip /hosting/modifyerrtype /hosting/packfile /hosting/unpackfile /hosting/setfolderipaccess /hosting/hostingsize /hosting/deletefile /hosting/logaccess /hosting/resettomcat /hosting/binddomain /hosting/unbinddomain /hosting/gethostinglog /hosting/hostdetail"),
    (10015, "dbname", "/database/createodr /database/renewdb /database/getupgradelist /database/upgrade /database/dbsize /database/modifydbstate /database/modifydbpass /database/modifyftppass /database/backup /database/restore /database/delbackupfile /database/dbdetail /database/ispresent /database/setcharset"),
    (10015, "hostname", "/present/openmail /present/openssl"),
    (10015, "cloudname", "/cloud/createhost /cloud/modplatformpassword /cloud/getsvrstt /cloud/restartcloud /cloud/shutdown /cloud/poweroff /cloud/starthost /cloud/bkup /cloud/delbkupfile /cloud/rstcloud /cloud/getrebuildsystem /cloud/rebuildcloud /cloud/modpassword /cloud/binddomain /cloud/deldomain /cloud/getupgradelist /cloud/upgradecloud /cloud/buyip /cloud/renewalcloud /cloud/changeport"),
    (10015, "webname", "/sitestarpro/renewalsite /sitestarpro/siteupgrade /sitestarpro/deletedomain /sitestarpro/getdomainlst /sitestarpro/changename /sitestarpro/getprodetail"),
];

/// A code the simulator sends, by number (the simulator keeps its codes numeric).
pub(crate) fn by_number(code: u32) -> Option<&'static VendorCode> {
    let code = code.to_string();
    ERRORS
        .codes
        .iter()
        .find(|c| c.code == code && c.text.is_none())
}

const CODES: &[VendorCode] = idcgate_core::vendor_codes! {
    // Codes whose meaning depends on the wording (codes are per endpoint): first.
    "10001" Other "价格查询失败,有错误消息提示", "价格查询失败";
    "*" InsufficientBalance "余额不足", "余额不足";
    "*" InsufficientBalance "金额不足", "金额不足";
    "10014" NotFound "代理商不存在", "不存在";
    "" NotFound "不存在", "不存在";
    "11104" Other "代理商会员名不能为空", "会员名";
    "11105" InvalidInput.tld "域名后缀格式不正确", "后缀";
    "11107" InvalidInput.tld "不支持此后缀查询", "后缀";
    // One entry per code: the document's first wording (the simulator sends its own).
    "10000" Other "验证通过";
    "10001" Authentication "您提交的 IP 被禁止, 请到 API 管理处添加您的 IP 地址";
    "10002" Authentication "您 API 已超过有效期";
    "10003" Authentication "您 API 申请还处于待审中";
    "10004" Authentication "您 API 被禁止使用";
    "10005" Authentication "您无权使用 API";
    "10006" Authentication "API 密码获取失败";
    "10007" Authentication "用户信息读取失败";
    "10008" Authentication "提交的验证串错误";
    "10011" InvalidInput.params "参数包含非法关键字";
    "10012" InvalidInput.params "参数为空";
    "10014" Other "代理商用户名为空";
    "10015" Other "域名不能为空";
    "10016" Other "续费年限非法[范围请参考订单]";
    "10017" Other "密码非法";
    "10018" Other "虚拟主机无此功能";
    "10019" NotFound "域名不在代理商名下";
    "10020" Other "操作选项非法";
    "10021" InsufficientBalance "您帐户金额不足";
    "10022" Authentication "请不要进行非法访问, 您的信息已被记录";
    "10023" Authentication "您 IP 已在黑名单无法使用 API 接口";
    "10025" NotFound "域名不在代理名下未找到";
    "10026" Other "您无权购买该产品";
    "10027" Other "产品名称为空";
    "10028" Other "产品类型为空";
    "10029" Other "产品类型非法";
    "10030" Other "产品名称非法";
    "10031" Other "产品名称已使用";
    "10034" Other "用户名非法";
    "10035" Authentication "提交时间非法";
    "10036" Authentication "请求已经受理, 请勿重复提交";
    "10041" Authentication "只能是当天操作时间";
    "10042" Other "优惠券不存在";
    "10043" Other "当前优惠券码不能使用";
    "10045" Other "复制对象不能小于当前被复制订单所属产品型号 (shop>ulti>pro 及 pro 可以复制 ulti 和 shop 的型号, 以此类推 )";
    "10046" Other "代金券不存在";
    "10049" Other "公司名称不可用";
    "10050" Other "手机号码不可用";
    "10051" Other "电子邮箱不可用";
    "11001" InvalidInput.contact "所有者 (英) 必须为英文输入";
    "11002" InvalidInput.contact "所有者 (英) 长度只能 2-96 位";
    "11003" InvalidInput.contact "所有者 (英) 头部不能为空格";
    "11004" InvalidInput.contact "所有者 (英) 尾部不能为空格";
    "11005" InvalidInput.contact "邮政编码不规范";
    "11006" InvalidInput.contact "姓 (英) 不是英文输入";
    "11007" InvalidInput.contact "姓 (英) 长度不能超过 30 位";
    "11008" InvalidInput.contact "名 (英) 不是英文输入";
    "11009" InvalidInput.contact "名 (英) 长度不能超过 30 位";
    "11010" InvalidInput.contact "国家代码 (英) 必须英文输入";
    "11011" InvalidInput.contact "省份 (英) 必须英文输入";
    "11012" InvalidInput.contact "城市 (英) 必须英文输入";
    "11013" InvalidInput.contact "联系地址 (英) 必须英文输入且包含一个空格";
    "11014" InvalidInput.contact "联系地址 (英) 长度 8 - 122 位";
    "11015" InvalidInput.contact "所有者 (中) 必须中文输入";
    "11016" InvalidInput.contact "所有者 (中) 长度必须 2-64 位 (针对个人) 所有者 (中) 长度必须为 6-64 位 (针对企业)";
    "11017" InvalidInput.contact "姓 (中) 必须中文输入";
    "11018" InvalidInput.contact "名 (中) 必须中文输入";
    "11019" InvalidInput.contact "国家代码 (中) 必须中文输入";
    "11020" InvalidInput.contact "省份 (中) 必须中文输入";
    "11021" InvalidInput.contact "城市 (中) 必须中文输入";
    "11022" InvalidInput.contact "联系地址 (中) 必须中文输入";
    "11023" InvalidInput.contact "联系地址 (中) 长度必须大于 8 位";
    "11024" InvalidInput.contact "联系地址 (中) 不能包含空格";
    "11025" InvalidInput.contact "电话不规范邮编不规范 (例如: +86.02151697771)";
    "11026" InvalidInput.contact "传真不规范 (例如: +86.02151697771)";
    "11028" InvalidInput.contact "电子邮件不规范 (例如: example@cndns.com)";
    "11033" Other "联系人 ID 不能为空";
    "11034" Other "代理商用户名不能为空";
    "11035" Other "域名或联系人 ID 请至少选填一项";
    "11036" Other "联系人 ID 获取失败";
    "11037" Other "联系人已审核禁止修改";
    "11038" Other "免检联系人信息禁止修改";
    "11039" Other "待 CNNIC 审核联系人信息禁止修改";
    "11040" Other ".HK、.CO、.CM、.SH、.IO、.AC 注册年限不能大于 5 年";
    "11041" Other ".HK 首年注册时不能包含 4 年";
    "11042" Other ".TM 至少 10 年起注册";
    "11043" Other "联系人信息禁止删除 (可能名下包含了域名或是免审信息)";
    "11045" Other "联系人创建失败";
    "11046" Other "联系人删除失败";
    "11047" Other "联系人 ID 修改失败";
    "11048" InvalidInput.contact "联系地址 (中) 仅支持中文、字母、数字、中线";
    "11049" InvalidInput.contact "联系地址 (英) 仅支持英文、数字、中线";
    "11050" Other "联系人姓氏 (中) 长度 1-10 位";
    "11051" Other "联系人名 (中) 长度 1-10 位";
    "11054" Other ".香港域名必须包含中文";
    "11055" Other "当前模板状态不能操作删除";
    "11056" Other "当前模板已有关联域名不能操作删除";
    "11057" Other "当前模板状态不允许修改";
    "11101" InvalidInput."domain-name" "域名主体不能为空";
    "11102" InvalidInput.tld "域名后缀不能为空";
    "11103" Other "参数不能为空";
    "11104" InvalidInput."domain-name" "域名格式不正确";
    "11105" InvalidInput.userid "域名后缀格式不正确";
    "11106" InvalidInput.domainname "域名非法";
    "11107" InvalidInput.domainpass "不支持此后缀查询";
    "11108" InvalidInput.years "注册年限不能把为空";
    "11109" NotFound "联系人信息读取失败或不存在";
    "11110" Other ".ASIA 域名注册时联系人证件号码不能为空";
    "11111" Other ".HK 域名注册时证件类型不能为空";
    "11112" Other ".HK 域名注册时证件号码不能为空";
    "11113" Other ".HK 域名注册时域名类型不能为空 (个人/企业)";
    "11114" Other ".com.hk/.org.hk/.edu.hk/.net.hk/.gov.hk 仅支持企业注册";
    "11115" Other ".idv.hk 仅支持个人注册";
    "11116" Other "国内域名注册时证件类型不能为空";
    "11117" Other "国内域名注册时证件号码不能为空";
    "11118" Other "国内域名注册时域名类型不能为空 (个人/企业)";
    "11119" Other "域名已有订单";
    "11120" Other "域名购买失败";
    "11123" Other "姓名域名审核失败 (域名、姓名、身份证不匹配)";
    "11124" Other "域名已被注册禁止下单购买";
    "11125" Other "香港证件号码格式错误";
    "11126" Other "证件号码格式错误只能是数字 1-16 位";
    "11127" Other "个人证件号码格式错误只能是(0-9a-zA-Z)6-8 位";
    "11128" Other "公司、网络域名证件类型只能是 SFZ,YYZZ,ORG";
    "11129" Other "域名查询超时,请重试!";
    "11130" Other "域名下单失败";
    "11131" InvalidInput.userid "域名联系人 ID 不能为空";
    "11132" InvalidInput.domainpass "域名密码格式错误";
    "11133" InvalidInput.years "域名购买年限格式错误";
    "11134" Other "注册域名格式错误,必须 oraydev 开头";
    "11301" InvalidInput.domainname "域名为空";
    "11302" NotFound "域名不在代理名下";
    "11303" InvalidInput.rec_item "主机头不能为空";
    "11304" InvalidInput.rec_level "MX 记录优先值不能为空";
    "11305" InvalidInput.rec_value "联系人 ID 或域名至少选填一项";
    "11306" InvalidInput.rec_type "记录类型为空";
    "11307" Other "域名 DNS 不是美橙互联的 DNS";
    "11308" Other "域名状态错误";
    "11309" InvalidInput.rec_item "主机头值错误";
    "11310" InvalidInput.rec_item "CNAME 记录的主机头不能为空";
    "11311" InvalidInput.rec_level "优先值为空或非数字";
    "11312" InvalidInput.rec_value "A 记录的记录值非法";
    "11313" InvalidInput.rec_value "CNAME 记录的记录值错误或最后一位缺少点";
    "11314" InvalidInput.rec_value "MX 记录的记录值错误或最后一位缺少点";
    "11315" InvalidInput.rec_value "TXT 记录值长度不能超过 255 位";
    "11316" InvalidInput.rec_value "TXT 记录值不能包含中文";
    "11317" InvalidInput.rec_id "记录 ID 为空";
    "11318" NotFound "解析记录获取失败, 请确认是否存在";
    "11319" Other "域名解析添加失败";
    "11320" Other "解析记录修改失败";
    "11321" Other "域名解析删除失败";
    "11336" Other "公司、网络域名证件类型只能是 SFZ,YYZZ,ORG";
    "11401" InvalidInput.dns_hst1 "DNS1 主机不能为空";
    "11402" InvalidInput.dns_hst2 "DNS2 主机不能为空";
    "11403" InvalidInput.dns_hst "DNS1 至 DNS6 不能相同(不包含空)";
    "11405" Other "DNS 信息获取失败";
    "11501" InvalidInput.password "新密码不能为空";
    "11502" Other "DNS 修改失败";
    "11601" InvalidInput.years "续费年限错误";
    "11602" Other "注册类型错误";
    "11603" Other "域名已进入删除队列无法续费";
    "11604" Other "续费失败";
    "11605" InvalidInput.exptme "域名到期时间不对";
    "11607" Other "域名不是有效状态";
    "11701" NotFound "域名订单不存在";
    "11702" Other "非国内域名无需提交域名资料审核";
    "11703" Other "域名状态非法 ( 仅限域名在我司等待提交资料状态 )";
    "11704" Other "注册人类型非法 ( 请参考参数说明 )";
    "11705" Other "组织类型非法 ( 请参考参数说明 )";
    "11706" Other "证件类型非法 ( 请参考参数说明 )";
    "11707" Other "证件图片地址不能为空 ( 请确保提交的图片本质是 JPG 图片且大小在 55K-1M 范围及提交的地址可以正常下载 )";
    "11708" Other "证件编号不能为空";
    "11709" Other "联系人身份证图片地址不能为空 ( 请参考参数说明 )";
    "11710" Other "图片下载地址非法请联系我司";
    "11711" Other "目录创建失败请联系我司";
    "11712" Other "域名所有者证件下载失败 ( 请确保提交的图片本质是 JPG 图片且大小在 55K-1M 范围及提交的地址可以正常下载 )";
    "11713" Other "联系人身份证下载失败";
    "11714" Other "GOV 注册申请表下载失败";
    "11715" Other "联系人身份证号码非法";
    "11716" Other "域名资料已提交无需重复提交";
    "11717" Other "域名审核资料上传失败";
    "11719" Other "状态查询失败";
    "11720" Other "图片大小只能是 55K-2M";
    "11722" NotFound "联系人 ID 不存在";
    "11724" Other "过户失败";
    "11725" Other "联系人 ID 不可用";
    "11726" Other "Gov.cn 行政域名不支持";
    "11727" Other "注册商非美橙互联不支持";
    "11728" InvalidInput.domainname "域名格式错误";
    "11729" InvalidInput.userid "联系人 ID 格式错误";
    "11730" Other "绑定的域名格式错误";
    "11731" Other "转移密码不能为空";
    "11732" Other "不支持转入该后缀";
    "11733" Other "绑定的域名后缀无效";
    "11734" Other "已存在域名订单";
    "11735" Other "已存在转入订单";
    "11736" Other "Whois 禁止转移或域名已过期";
    "11738" InsufficientBalance "账户余额不足";
    "11739" Other "转移密码错误";
    "11740" Other "域名状态禁止转移";
    "11741" Other "转入异常";
    "11744" NotFound "找不到转入订单";
    "11745" Other "转入订单状态异常";
    "11750" NotFound "没有找到转入订单";
    "11751" Other "取消转入失败";
    "11752" NotFound "没有找到可操作的转入订单";
    "11753" Other "找到多条转入订单";
    "12001" Other "产品类型获取失败 (请确保参数有值)";
    "12002" Other "管理名称为空";
    "12005" Other "购买年限非法 至少 1 年起购买, 最大不能超过 5 年";
    "12006" Other "PC 版模板 ID 非法";
    "12008" Other "建站标签非法";
    "12009" Other "建站购买失败";
    "12014" Other "国内不包含当前机房编号";
    "12015" Other "国外不包含当前机房编号";
    "12102" Other "建站产品运行状态错误, 请确保建站在运行中";
    "12103" Other "超出了域名绑定上限";
    "12104" Other "域名为空";
    "12105" Other "域名中含有非法字符";
    "12106" Other "域名包含空格";
    "12107" Other "域名格式非法";
    "12108" Other "域名被禁止绑定";
    "12109" Other "域名已被绑定过";
    "12110" Other "域名被禁止绑定";
    "12111" Other "备案号未查询到, 请确认备案已可查询至";
    "12112" Other "域名备案非我司接入";
    "12113" Other "域名绑定失败";
    "12114" Other "建站续费失败";
    "12119" Other "建站标签为空";
    "12121" Other "建站产品信息获取失败, 请确认产品 FTP 无误";
    "12122" Other "建站原始信息获取失败请确认产品名称是否正确";
    "12123" Other "建站升级失败";
    "12124" Other "域名删除失败";
    "12125" Other "建站产品不在代理商名下";
    "12129" Other "先删除该建站名下绑定的域名 然后升级换机房";
    "13001" Other "管理名称命名非法";
    "13002" Other "管理名称重复";
    "13003" Other "管理名称被禁止使用";
    "13004" Other "密码非法";
    "13005" Other "注册年限错误";
    "13006" Other "产品开通错误";
    "13010" Other "产品续费失败";
    "13011" Other "虚拟主机 prd 获取失败";
    "13012" Other "虚拟主机价格获取失败";
    "13101" Other "获取容量类型参数非法";
    "13102" Other "运行状态错误";
    "13103" Other "WEB 状态修改失败";
    "13104" Other "FTP 状态修改失败";
    "13105" Other "密码修改失败";
    "13106" Other "默认页面非法 (请参考参数说明)";
    "13107" Other "默认页面设置失败";
    "13108" Other "404 错误页面路径非法";
    "13109" Other "404 错误页面设置失败";
    "13110" Other ".Net 版本号非法";
    "13111" Other ".Net 版本切换失败";
    "13112" Other "默认 IP 访问权限设置失败";
    "13113" Other "IP 格式非法";
    "13114" Other "子网掩码非法";
    "13115" Other "选项非法 (请参考参数说明)";
    "13116" Other "设置失败";
    "13117" Other "选项非法 (请参考参数说明)";
    "13118" Other "设置失败";
    "13119" Other "错误类型非法";
    "13120" Other "设置失败";
    "13121" Other "操作选项非法";
    "13122" Other "目录路径非法";
    "13123" Other "设置失败";
    "13124" Other "Log 日志访问权限参数非法";
    "13125" Other "设置失败";
    "13126" Other "压缩文件非法";
    "13127" Other "压缩源路径非法";
    "13128" Other "压缩失败";
    "13136" Other "解压失败";
    "13138" Other "重启失败";
    "13139" Other "域名为空";
    "13140" Other "虚拟主机运行状态非法";
    "13141" Other "已超出默认虚拟主机域名绑定数 (默认 10 条)";
    "13142" Other "域名绑定失败";
    "13144" Other "域名删除失败";
    "13145" Other "升级失败";
    "13146" Other "获取升级列表失败，请确认您 FTP 用户名、代理商用户名正确";
    "13147" Other "虚拟主机日志获取失败";
    "13148" Other "删除的目录/文件路径非法";
    "13149" Other "删除失败";
    "13150" Other "域名性质非法 (请参考参数说明)";
    "13151" Other "单位名称/个人名称非法";
    "13152" Other "单位组织机构代码证非法 (请填写 9 位的数字)";
    "13153" Other "联系地址非法";
    "13154" Other "联系电话非法 (请参考参数说明)";
    "13155" Other "网站名称非法";
    "13156" Other "主办人证件号码非法 (请参考参数说明)";
    "13157" Other "应急联系人非法";
    "13158" Other "证件号码非法 (请参考参数说明)";
    "13159" Other "固定电话非法 (请参考参数说明)";
    "13160" Other "移动电话非法 (请参考参数说明)";
    "13161" Other "电子邮件非法 (请参考参数说明)";
    "13163" Other "域名备案号获取失败";
    "13164" Other "域名还未备案无法绑定";
    "13165" Other "域名备案状态非法";
    "13166" Other "域名信息提交失败";
    "14001" Other "数据库名称非法";
    "14002" Other "数据库名称已被使用";
    "14003" Other "密码非法";
    "14004" Other "数据库类型非法";
    "14005" Other "数据库容量非法";
    "14006" Other "数据库所在地非法";
    "14007" Other "购买年限非法";
    "14008" Other "开通失败";
    "14101" Other "升级失败";
    "14102" Other "运行状态值非法";
    "14103" Other "修改状态失败";
    "14104" Other "密码非法";
    "14105" Other "修改密码失败";
    "14106" Other "修改 FTP 密码失败";
    "14107" Other "备份文件编号非法";
    "14108" Other "数据库备份失败";
    "14109" Other "还原文件编号非法";
    "14110" Other "数据库还原失败";
    "14111" Other "数据库备份文件删除失败";
    "14112" Other "获取升级列表失败。 提示: 请确认提交的数据库产品名称合法";
    "14113" Other "续费失败";
    "14114" Other "非 MySQL 数据库无法设置字符集";
    "14115" Other "字符集设置失败";
    "15001" Other "邮局域名非法";
    "15002" Other "邮局域名已使用";
    "15003" Other "管理密码非法";
    "15004" Other "购买年限非法 (请参考参数一栏)";
    "15005" Other "邮局标签非法 (请参考参数一栏)";
    "15006" Other "邮箱数非法";
    "15007" Other "邮箱开通失败";
    "15008" Other "运行状态非法";
    "15010" Other "续费失败";
    "15011" Other "过期无法升级请先续费";
    "15012" Other "邮局用户数非法 请确认提交的用户为非 0 的数字；且大于老的邮箱数。";
    "15013" Other "续费失败";
    "15014" Other "未选择一种升级方式";
    "15101" Other "该款邮局产品无此功能";
    "15102" Other "密码修改失败";
    "15103" Other "邮箱账号非法";
    "15104" Other "邮局已过期";
    "15105" Other "运行状态错误";
    "15106" Other "被禁止使用";
    "15107" Other "添加邮箱失败";
    "15108" Other "邮箱账号非法";
    "15109" Other "邮箱运行态非法";
    "15110" Other "状态修改失败";
    "15111" Other "备注信息修改失败";
    "15112" Other "邮箱容量为空";
    "15113" Other "邮箱容量调整失败";
    "15114" Other "邮箱密码非法";
    "15115" Other "密码修改失败";
    "15116" Other "新域名非法";
    "15117" Other "修改域名失败";
    "15118" Other "邮箱账号为空";
    "15119" Other "邮箱账号删除失败";
    "15120" Other "管理员账号设置失败";
    "15122" Other "邮局订单不属于您";
    "15124" Other "请填写代收服务器地址";
    "15125" Other "用户名已存在";
    "15126" Other "用户数已超出";
    "15127" Other "密码必须 Base64 加密";
    "15128" Other "用户名格式必须邮箱";
    "15129" Other "密码非空";
    "15130" Other "端口无效必须是数字";
    "16001" Other "赠品信息获取失败";
    "16002" Other "主体产品信息获取失败";
    "16003" Other "赠品已开通过";
    "16004" Other "赠品邮局开通失败";
    "16005" Other "赠品数据库开通失败";
    "17001" Other "CPU 参数非法 (请以产品列表中 CPU 值为准)";
    "17002" Other "内存参数非法 (请以产品列表中内存值为准)";
    "17003" Other "空间参数非法 (请以产品列表中空间值为准)";
    "17004" Other "带宽参数非法 (请以产品列表中带宽值为准)";
    "17005" Other "操作系统参数非法 (请以产品列表中系统值为准)";
    "17006" Other "机房参数非法 (请以产品列表中机房值为准)";
    "17007" Other "购买时限参数非法 (请以产品列表中购买时限值为准)";
    "17008" Other "产品信息错误";
    "17009" Other "购买失败";
    "17010" Other "主机有快照无法重装系统";
    "17011" Other "该机房目前被禁止购买";
    "17013" Other "获取系统价格错误";
    "17014" Other "获取硬盘价格错误";
    "17015" Other "获取流量价格错误";
    "17016" Other "获取cpu价格错误";
    "17017" Other "主机状态非法";
    "17018" Other "获取ip价格错误";
    "17101" Other "密码非法";
    "17102" NotFound "产品不在代理商名下";
    "17103" Other "主机已开通无需再次开通";
    "17104" Other "主机更新密码失败";
    "17105" Other "主机开通失败";
    "17106" Other "密码修改失败";
    "17107" Other "主机状态非法";
    "17108" Other "主机非运行态无法重启";
    "17109" Other "主机重启失败";
    "17110" Other "主机参数获取失败";
    "17111" Other "主机非运行态无法关机";
    "17112" Other "主机关机失败";
    "17113" Other "主机非关机状态无法开机";
    "17114" Other "主机开机失败";
    "17115" Other "主机已关机无法再关闭";
    "17116" Other "主机关闭电源失败";
    "17117" Other "主机快照失败";
    "17118" Other "主机照还原失败";
    "17119" Other "主机无快照无需删除操作";
    "17120" Other "主机快照删除失败";
    "17121" Other "系统列表获取失败";
    "17122" Other "主机关机失败";
    "17123" Other "主机重装系统失败";
    "17124" Other "主机非关机状态无法修改密码";
    "17125" Other "修改密码失败";
    "17126" Other "续费失败";
    "17127" Other "主机有快照无法升级";
    "17128" Other "非关机状态无法升级";
    "17129" Other "CPU 超限无法升级 (在返回结果最后中括号中是剩余最大值)";
    "17130" Other "内存超限无法升级 (在返回结果最后中括号中是剩余最大值)";
    "17131" Other "空间超限无法升级 (在返回结果最后中括号中是剩余最大值)";
    "17132" Other "带宽超限无法升级 (在返回结果最后中括号中是剩余最大值)";
    "17133" Other "升级失败";
    "17134" Other "IP 值超出最大限制";
    "17135" Other "有快照无法购买 IP";
    "17136" Other "非关机状态无法购买 IP";
    "17137" Other "购买 IP 失败";
    "17138" Other "域名非法";
    "17139" Other "服务器所在机房不支持";
    "17140" Other "域名未备案无法绑定";
    "17141" Other "域名已绑定过无法再次绑定";
    "17142" Other "域名绑定失败";
    "17143" Other "域名并未绑定过无需删除";
    "17144" Other "域名删除失败";
    "17148" Other "管理名称非法";
    "17149" Other "上海双线不支持";
    "17150" Other "非 windows 主机, 不支持切换";
    "17151" Other "仅含有内网 IP 的主机支持";
    "17152" Other "请先关机再切换端口号";
    "17153" Other "主机端口切换失败";
    "19101" Other "新的自定义名称非法";
    "19102" Other "修改失败";
    "19103" Other "链接获取失败";
    "19104" Other "产品信息获取失败";
    "19105" Other "手机版模板 ID 非法";
    "19106" Other "建站模板信息读取失败请确保传递的模板编号正确";
    "19107" Other "模板不适用当前购买, 请选择正确模板";
    "19108" Other "已开通过副产品, 无法再次开通";
    "19109" Other "建站副产品购买失败";
    "19111" Other "微餐饮禁止开通副产品";
    "19112" Other "微餐饮禁止操作域名";
    "19114" Other "无可升级的产品列表";
    "19117" Other "免费建站升级请填写合法年限";
    "19118" Other "请选择合法的模板";
    "19119" Other "该模板是免费模板不必购买";
    "19120" Other "模板购买失败";
    "19122" Other "微餐饮所在地非法 (请确认参数不是 hk)";
    "19131" Other "国外机房不能切换国内";
    "19132" Other "自定义机房 id 不存在";
    "19133" Other "已是当前机房";
    "19134" Other "获取机房失败";
    "19135" Other "自定义机房 id 格式错误";
    "20002" Other "产品账户非法";
    "20003" Other "产品账户已使用";
    "20004" Other "账户密码非法";
    "20005" Other "联系人姓氏非法";
    "20006" Other "联系人姓名非法";
    "20007" Other "购买点数非法";
    "20008" Other "购买失败";
    "20101" Other "密码修改失败";
    "20102" Other "点数购买失败";
    "20103" Other "点数获取失败";
    "20104" Other "该订单无法获取剩余点数";
    "20105" Other "链接获取失败";
    "21001" Other "系统部署错误, 请联系我司客服人员";
    "21002" Other "联系人姓氏非法";
    "21003" Other "联系人姓名非法";
    "21004" Other "购买点数非法";
    "21005" Other "产品购买失败";
    "21007" Other "管理员姓名非法, 仅支持字母、数字、中文, 长度 2-50 位";
    "21008" Other "管理员身份证号码非法";
    "21009" Other "公司名称非法, 仅支持字母、数字、中文、点、半角逗号; 长度 2-150 位";
    "21010" Other "公司证件号码非法";
    "21011" Other "法人姓名非法";
    "21012" Other "法人身份证号码非法";
    "21101" Other "产品账户非法";
    "21102" Other "账户密码非法";
    "21103" Other "密码包含非法字符";
    "21104" Other "密码修改失败";
    "21105" Other "购买点数格式非法";
    "21106" Other "购买点数非法";
    "21107" Other "购买点数失败";
    "21109" Other "链接获取失败";
    "40001" Authentication "会员名非法";
    "40002" Authentication "来访 IP 非法";
    "40003" Authentication "提交时间非法";
    "40004" Authentication "签名非法";
    "40005" Authentication "会员不存在无法进行 API 交互";
    "40006" Authentication "还未设置 API 信息";
    "40007" Authentication "IP 非法";
    "40008" Other "图片无法下载, 问题提交失败 ( 请确保您提供的图片地址可以被正常下载 )";
    "40009" Other "问题分类非法 ( 请参考前面的问题分类明细 )";
    "40010" Other "问题描述不能为空";
    "40011" Other "用户邮箱不能为空, 请至主站设置您的邮箱信息";
    "40012" Other "图片下载数与图片链接提交数不符, 问题提交失败 (请确认提交的图片格式是 JPG 且能正常下载)";
    "40013" Other "问题提交失败";
    "40014" Other "问题编号非法";
    "40015" Other "问题已被关闭无法回复/追问";
    "40016" Other "问题追问失败";
};

#[cfg(test)]
mod tests {
    use super::*;
    use RefusalKind::*;

    #[test]
    fn every_code_the_simulator_sends_is_in_the_table() {
        let sources = [
            include_str!("sim/mod.rs"),
            include_str!("sim/cdn.rs"),
            include_str!("sim/cloud.rs"),
            include_str!("sim/dns.rs"),
            include_str!("sim/domain.rs"),
            include_str!("sim/finance.rs"),
            include_str!("sim/marketing.rs"),
            include_str!("sim/present.rs"),
            include_str!("sim/products.rs"),
            include_str!("sim/promo.rs"),
            include_str!("sim/resold.rs"),
            include_str!("sim/seed.rs"),
            include_str!("sim/sitestar.rs"),
            include_str!("sim/support.rs"),
            include_str!("sim/transfer.rs"),
        ]
        .concat();
        // Every five-digit number outside ranges and size tables: the literal codes and
        // the codes handlers pass around in variables and match arms alike.
        let mut missing = Vec::new();
        for line in sources.lines() {
            if line.contains("..=") || line.contains("const ") {
                continue;
            }
            let b = line.as_bytes();
            let mut i = 0;
            while i < b.len() {
                let end = (i..b.len())
                    .find(|&j| !b[j].is_ascii_digit())
                    .unwrap_or(b.len());
                if end == i {
                    i += 1;
                    continue;
                }
                let word = |k: Option<&u8>| {
                    k.is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'.')
                };
                let standalone =
                    !word(i.checked_sub(1).and_then(|k| b.get(k))) && !word(b.get(end));
                if standalone && end - i == 5 {
                    if let Ok(code) = line[i..end].parse::<u32>() {
                        if by_number(code).is_none() {
                            missing.push(code);
                        }
                    }
                }
                i = end;
            }
        }
        missing.sort_unstable();
        missing.dedup();
        assert!(
            missing.is_empty(),
            "codes the simulator sends, not in ERRORS: {missing:?}"
        );
    }

    #[test]
    fn wording_decides_where_codes_collide() {
        assert_eq!(
            ERRORS
                .lookup("10001", "价格查询失败,产品类型错误")
                .map(|c| c.kind),
            Some(Other)
        );
        assert_eq!(
            ERRORS.lookup("10001", "您提交的IP被禁止").map(|c| c.kind),
            Some(Authentication)
        );
        assert_eq!(
            ERRORS
                .lookup("11105", "域名后缀格式不正确")
                .and_then(|c| c.field),
            Some("tld")
        );
        assert_eq!(
            ERRORS
                .lookup("11105", "域名联系人ID非法")
                .and_then(|c| c.field),
            Some("userid")
        );
        assert_eq!(
            ERRORS.lookup("", "账户余额不足").map(|c| c.kind),
            Some(InsufficientBalance)
        );
        assert_eq!(
            ERRORS.lookup("", "域名不存在").map(|c| c.kind),
            Some(NotFound)
        );
        assert_eq!(ERRORS.lookup("", "别的"), None);
        assert_eq!(ERRORS.entry("11318").kind, NotFound);
    }
}
