from controller.health import HealthBoard


def test_a_fault_is_reported_once_until_cleared_and_keeps_its_first_time():
    board = HealthBoard()
    assert board.healthy() and board.reasons() == []
    assert board.fault('store', 'disk full', 10.0) is True
    assert board.fault('store', 'disk full (again)', 12.0) is False
    assert not board.healthy()
    assert board.reasons() == [{'component': 'store', 'reason': 'disk full (again)', 'since': 10000}]
    assert board.clear('store') is True and board.clear('store') is False
    assert board.healthy()
