"""Door phones in tests: several devices scanning one ticket at the same moment."""

import threading


def scan_from_devices(app, body: dict, headers: dict, devices: int = 10) -> list[str]:
    """Each device posts the same scan to the API at once; the results, in arrival order."""
    start = threading.Barrier(devices)
    results = []

    def device():
        client = app.test_client()
        start.wait()
        response = client.post("/api/v1/checkin", json=body, headers=headers)
        results.append(response.get_json()["result"])

    threads = [threading.Thread(target=device) for _ in range(devices)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
