/**
 * The seed's order processor (RivetKit launch post), with the inventory and payment actors
 * it calls through `c.client<typeof registry>()`. The registry is imported with
 * `import type` from another module, as the seed does, so actor-to-actor calls are typed
 * without a runtime import cycle.
 */
import { actor, UserError } from "tandem";
import type { seedRegistry } from "./seed-registry.ts";

export interface Order {
  id: string;
  productId: string;
  customerId: string;
  quantity: number;
  amount: number;
}

export interface ProcessedOrder extends Order {
  status: "processed";
  paymentId: string;
}

export const inventory = actor({
  state: { stock: 0, reserved: 0 },
  actions: {
    restock: (c, quantity: number) => {
      c.state.stock += quantity;
      return c.state.stock;
    },
    reserveStock: (c, quantity: number): boolean => {
      if (c.state.stock < quantity) return false;
      c.state.stock -= quantity;
      c.state.reserved += quantity;
      return true;
    },
    releaseStock: (c, quantity: number) => {
      c.state.stock += quantity;
      c.state.reserved -= quantity;
    },
    getStock: (c) => ({ stock: c.state.stock, reserved: c.state.reserved }),
  },
});

export const payment = actor({
  state: { balance: 0, payments: [] as { paymentId: string; amount: number }[] },
  actions: {
    deposit: (c, amount: number) => {
      c.state.balance += amount;
      return c.state.balance;
    },
    processPayment: (c, amount: number): { paymentId: string } => {
      if (c.state.balance < amount) {
        throw new UserError("Payment declined", { code: "payment_declined", metadata: { balance: c.state.balance, amount } });
      }
      c.state.balance -= amount;
      const paymentId = `pay-${c.state.payments.length + 1}`;
      c.state.payments.push({ paymentId, amount });
      return { paymentId };
    },
    getBalance: (c) => c.state.balance,
  },
});

export const orderProcessor = actor({
  state: { orders: [] as ProcessedOrder[] },
  actions: {
    processOrder: async (c, order: Order): Promise<{ success: boolean; orderId: string }> => {
      const client = c.client<typeof seedRegistry>();

      // Call another actor to check inventory
      const inventory = client.inventory.getOrCreate(order.productId);
      const available = await inventory.reserveStock(order.quantity);
      if (!available) throw new UserError("Insufficient stock", { code: "insufficient_stock" });

      // Process payment through payment actor; give the stock back if it fails
      const payment = client.payment.getOrCreate(order.customerId);
      let result: { paymentId: string };
      try {
        result = await payment.processPayment(order.amount);
      } catch (error) {
        await inventory.releaseStock(order.quantity);
        throw error;
      }

      c.state.orders.push({ ...order, status: "processed", paymentId: result.paymentId });
      return { success: true, orderId: order.id };
    },
    getOrders: (c) => c.state.orders,
  },
});
