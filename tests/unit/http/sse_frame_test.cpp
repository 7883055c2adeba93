// The bytes of a server-sent-event stream: the head and the framing of each event.
#include "telluride/http/sse_frame.hpp"

#include <doctest/doctest.h>

using namespace telluride::http;
using namespace std::chrono_literals;

TEST_CASE("an event is one data line per line of its payload and an empty line") {
  CHECK(sse_event(R"({"a":1})") == "data: {\"a\":1}\n\n");
  CHECK(sse_event("") == "data: \n\n");
  CHECK(sse_event("one\ntwo") == "data: one\ndata: two\n\n");
  CHECK(sse_event("one\r\ntwo\rthree") == "data: one\ndata: two\ndata: three\n\n");
  CHECK(sse_event("last\n") == "data: last\ndata: \n\n");
}

TEST_CASE("a payload cannot end its event early or inject a field") {
  // Without the split, "\n\nevent: x" would end the event and start another with a field.
  CHECK(sse_event("a\n\nevent: x") == "data: a\ndata: \ndata: event: x\n\n");
}

TEST_CASE("the stream head is a 200 event stream without a length, with the retry delay") {
  CHECK(sse_stream_head(2000ms) ==
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: text/event-stream; charset=utf-8\r\n"
        "Cache-Control: no-store\r\n"
        "Connection: keep-alive\r\n"
        "X-Accel-Buffering: no\r\n"
        "\r\n"
        "retry: 2000\n\n");
}
