//! 有问必答 (support tickets, on the support host): questions, follow-ups and the
//! staff's replies, which arrive by the first status read after a question is asked.

use super::{fmt_time, Fields, Handler, Req, SimErr, State, R};
use serde_json::{json, Value};

/// The fixed category codes of the document (产品售后 --- product --- kind).
const CATEGORIES: [&str; 28] = [
    "000000", "000001", "000002", "000003", "000004", "000100", "000101", "000102", "000200",
    "000201", "000202", "000300", "000301", "000302", "000400", "000401", "000402", "000500",
    "000501", "000502", "000800", "000801", "000802", "000900", "000901", "000902", "001101",
    "001201",
];

/// The sandbox's closed question (the id of the document's Reply example).
pub const CLOSED_SAMPLE: u64 = 266;

#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub id: u64,
    pub staff: bool,
    pub text: String,
    pub time: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct Question {
    pub cate: String,
    pub product: String,
    /// waiting, processing, finish, close.
    pub state: &'static str,
    pub replies: Vec<Reply>,
}

/// The support host's own auth codes for the api host's.
pub(crate) fn auth_code(code: u32) -> u32 {
    match code {
        10001 | 10023 => 40002,
        10007 => 40001,
        10008 => 40004,
        10035 | 10036 | 10041 => 40003,
        other => other,
    }
}

/// The support host's code for a missing or mistyped parameter.
pub(crate) fn param_code(field: &str) -> u32 {
    match field {
        "cnt" => 40010,
        "cate" => 40009,
        _ => 40014,
    }
}

fn pictures_ok(q: &Req) -> Result<(), SimErr> {
    match q.arg("picaddr") {
        Some(p)
            if p.split(',')
                .any(|u| u.contains("://") || !u.to_ascii_lowercase().ends_with(".jpg")) =>
        {
            Err(SimErr::field(40008, "图片无法下载,问题提交失败", "picaddr"))
        }
        _ => Ok(()),
    }
}

fn question_id(q: &Req, st: &State) -> Result<u64, SimErr> {
    q.arg("Question")
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|id| st.questions.contains_key(id))
        .ok_or_else(|| SimErr::field(40014, "问题编号非法", "Question"))
}

/// `%xx` for every byte: ReplyDetail's `a_cnt` is urlencoded.
fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02x}")).collect()
}

pub(crate) fn handler(name: &str) -> Option<Handler> {
    Some(match name {
        "support/api/question" => question,
        "support/api/reply" => reply,
        "support/api/replydetail" => reply_detail,
        _ => return None,
    })
}

fn question(st: &mut State, q: &Req) -> R {
    let cate = q.checked(
        "cate",
        |cate| CATEGORIES.contains(&cate),
        40009,
        "问题分类非法",
    )?;
    pictures_ok(q)?;
    let id = st.next_id();
    let rid = st.next_id();
    st.questions.insert(
        id,
        Question {
            cate: cate.into(),
            // The example sends `prname`; the table says `priname`.
            product: q
                .arg("priname")
                .or_else(|| q.arg("prname"))
                .unwrap_or("")
                .into(),
            state: "waiting",
            replies: vec![Reply {
                id: rid,
                staff: false,
                text: q.req("cnt")?.into(),
                time: q.now_ms(),
            }],
        },
    );
    Ok(json!({"QuestionID": id.to_string()}))
}

fn reply(st: &mut State, q: &Req) -> R {
    let id = question_id(q, st)?;
    pictures_ok(q)?;
    let text = q.req("cnt")?.to_string();
    let rid = st.next_id();
    let Some(question) = st.questions.get_mut(&id) else {
        return Err(SimErr::field(40014, "问题编号非法", "Question"));
    };
    if question.state == "close" {
        return Err(SimErr::new(40015, "问题已被关闭无法回复/追问"));
    }
    question.state = "waiting";
    question.replies.push(Reply {
        id: rid,
        staff: false,
        text,
        time: q.now_ms(),
    });
    Ok(json!({"ReplyID": rid.to_string()}))
}

fn reply_detail(st: &mut State, q: &Req) -> R {
    let id = question_id(q, st)?;
    let rid = st.next_id();
    let Some(question) = st.questions.get_mut(&id) else {
        return Err(SimErr::field(40014, "问题编号非法", "Question"));
    };
    // Staff answer a waiting question by the time it is next looked at.
    if question.state == "waiting" {
        question.state = "processing";
        question.replies.push(Reply {
            id: rid,
            staff: true,
            text: format!(
                "您好，您的问题(分类{}，产品{})已经处理，请您确认！",
                question.cate, question.product
            ),
            time: q.now_ms(),
        });
    }
    let staff: Vec<Value> = question
        .replies
        .iter()
        .filter(|r| r.staff)
        .map(|r| json!({"a_id": r.id.to_string(), "a_cnt": urlencode(&r.text), "a_addtme": fmt_time(r.time)}))
        .collect();
    // ReplyDetail puts `state` and `hasReply` beside `message` (see `envelope`).
    Ok(json!({
        "state": question.state,
        "hasReply": if staff.is_empty() { "False" } else { "True" },
        "message": staff,
    }))
}
