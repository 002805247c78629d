//! The generated declarations link and agree with the library at run time.
use std::ffi::{CStr, CString};
use std::ptr;

use literllm_sys as sys;

#[test]
fn version_and_status_names_match_the_library() {
    // SAFETY: these calls never fail and return static strings.
    unsafe {
        assert_eq!(sys::llm_version_number() as i64, sys::LLM_VERSION_NUMBER);
        let v = CStr::from_ptr(sys::llm_version()).to_str().unwrap();
        assert_eq!(v, format!("{}.{}.{}", sys::LLM_VERSION_MAJOR, sys::LLM_VERSION_MINOR, sys::LLM_VERSION_PATCH));
        for s in sys::llm_status::ALL {
            assert_eq!(CStr::from_ptr(sys::llm_status_str(s)).to_str().unwrap(), s.name().unwrap());
        }
        assert_eq!(CStr::from_ptr(sys::llm_status_str(sys::llm_status(999))).to_str().unwrap(), "LLM_ERR_UNKNOWN");
    }
    assert_eq!(std::mem::size_of::<sys::llm_status>(), 4);
}

#[test]
fn an_e_form_hands_back_an_error_object() {
    let mut client = ptr::null_mut();
    let mut err = ptr::null_mut();
    let config = CString::new("{\"max_retries\": -1}").unwrap();
    // SAFETY: valid arguments; the error object is ours to free.
    unsafe {
        let st = sys::llm_client_new_e(config.as_ptr(), &mut client, &mut err);
        assert_eq!(st, sys::LLM_ERR_INVALID_ARGUMENT);
        assert!(client.is_null());
        assert!(!err.is_null());
        assert_eq!(sys::llm_error_status(err), sys::LLM_ERR_INVALID_ARGUMENT);
        let msg = CStr::from_ptr(sys::llm_error_message(err)).to_str().unwrap();
        assert!(msg.contains("max_retries"), "{msg}");
        assert_eq!(sys::llm_error_http_status(err), 0);
        assert_eq!(sys::llm_error_retry_after_ms(err), -1);
        let copy = sys::llm_error_clone(err);
        sys::llm_error_free(err);
        assert_eq!(sys::llm_error_status(copy), sys::LLM_ERR_INVALID_ARGUMENT);
        sys::llm_error_free(copy);
        sys::llm_client_free(ptr::null_mut());
    }
}
