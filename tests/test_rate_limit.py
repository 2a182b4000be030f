from tasks_app.realtime.rate_limit import TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_full_bucket_allows_a_burst_then_refuses():
    bucket = TokenBucket(rate=1, burst=3, clock=FakeClock())

    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


def test_tokens_come_back_at_the_rate_and_no_more_than_the_burst():
    clock = FakeClock()
    bucket = TokenBucket(rate=2, burst=3, clock=clock)
    for _ in range(3):
        bucket.take()

    clock.now = 1.0
    after_one_second = [bucket.take() for _ in range(3)]
    clock.now = 100.0
    after_a_long_rest = [bucket.take() for _ in range(4)]

    assert after_one_second == [True, True, False]
    assert after_a_long_rest == [True, True, True, False]


def test_an_empty_bucket_says_when_the_next_token_comes():
    bucket = TokenBucket(rate=4, burst=1, clock=FakeClock())
    bucket.take()

    assert bucket.seconds_until_next() == 0.25
