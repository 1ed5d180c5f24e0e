import {
  type AppointmentListQuery,
  type AppointmentService,
  appointmentListQuerySchema,
  appointmentViewSchema,
  type CreateAppointmentInput,
  createAppointmentBodySchema,
  idParamsSchema,
  type UpdateAppointmentInput,
  updateAppointmentBodySchema,
} from "@ecodrix/crm";
import type { FastifyInstance } from "fastify";
import { tenantOf } from "../plugins/tenant-auth.js";

type IdParams = { id: string };
const tags = ["tenant"];

/** CRM appointments (`/api/crm/appointments`): booked → confirmed → completed, and their triggers. */
export function crmAppointmentsRoutes(
  app: FastifyInstance,
  deps: { appointments: AppointmentService },
): void {
  const { appointments } = deps;

  app.post(
    "/api/crm/appointments",
    {
      schema: {
        summary: "Book an appointment for a lead (createMeet: true queues a Google Meet link)",
        tags,
        body: createAppointmentBodySchema,
        response: { 201: appointmentViewSchema },
      },
    },
    async (request, reply) => {
      const { clientCode } = tenantOf(request);
      const appointment = await appointments.create(clientCode, request.body as CreateAppointmentInput);
      request.log.info({ clientCode, appointmentId: appointment.id }, "appointment booked");
      return reply.status(201).send(appointment);
    },
  );

  app.get(
    "/api/crm/appointments",
    {
      schema: {
        summary: "List appointments by start time (leadId, status, from, to, cursor)",
        tags,
        querystring: appointmentListQuerySchema,
        response: {
          200: {
            type: "object",
            properties: {
              appointments: { type: "array", items: appointmentViewSchema },
              nextCursor: { type: ["string", "null"] },
            },
          },
        },
      },
    },
    async (request) => appointments.list(tenantOf(request).clientCode, request.query as AppointmentListQuery),
  );

  app.get(
    "/api/crm/appointments/:id",
    {
      schema: {
        summary: "One appointment",
        tags,
        params: idParamsSchema,
        response: { 200: appointmentViewSchema },
      },
    },
    async (request) => appointments.get(tenantOf(request).clientCode, (request.params as IdParams).id),
  );

  app.patch(
    "/api/crm/appointments/:id",
    {
      schema: {
        summary:
          "Change status (booked → confirmed | cancelled | no_show; confirmed → completed | cancelled | no_show), reschedule, notes",
        tags,
        params: idParamsSchema,
        body: updateAppointmentBodySchema,
        response: { 200: appointmentViewSchema },
      },
    },
    async (request) => {
      const { clientCode } = tenantOf(request);
      const appointment = await appointments.update(
        clientCode,
        (request.params as IdParams).id,
        request.body as UpdateAppointmentInput,
      );
      request.log.info(
        { clientCode, appointmentId: appointment.id, status: appointment.status },
        "appointment updated",
      );
      return appointment;
    },
  );
}
