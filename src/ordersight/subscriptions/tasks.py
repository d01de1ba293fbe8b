"""The billing pass, every minute: a payment that fell due while paused is charged within
minutes of activation, and a crashed pass is finished by the next one."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from ordersight.subscriptions.billing import billing_pass


@db_periodic_task(crontab(minute="*"))
def run_billing() -> str:
    return billing_pass().summary()
